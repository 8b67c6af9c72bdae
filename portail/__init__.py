"""The partners' deposit portal: personal links, templates from the contracts, deposits checked by the verifier and
written into the inbox, the steward's campaign board (`bilan portail`, `make portail`)."""

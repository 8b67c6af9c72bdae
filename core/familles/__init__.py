"""The partner files' families, as the domain sees them: the bounded reader, the contracts typed from
config/contrats/, the `Family` each contract makes with the rules of its own module here (`<famille>.py`),
and the registry that builds them. The staging assets (assets/staging/) run them into the warehouse."""

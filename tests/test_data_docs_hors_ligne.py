"""Data Docs that open offline with their results: a real Great Expectations site, made offline by
`make_offline`, opened in headless Chromium with the network cut, lists its validations in French."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from checks.expectations import make_offline

CHROMIUM = Path("/usr/bin/chromium")


def _site(tmp_path: Path) -> Path:
    """One suite, one validation (one expectation failing), written by GE as a Data Docs site."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.checkpoint import UpdateDataDocsAction

    docs = tmp_path / "data_docs"
    context = gx.get_context(mode="file", project_root_dir=str(tmp_path / "gx"))
    context.add_data_docs_site(site_name="bilan", site_config={  # type: ignore[typeddict-unknown-key]
        "class_name": "SiteBuilder", "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
    batch = context.data_sources.add_pandas("entrepot").add_dataframe_asset(name="marts_tfpb") \
        .add_batch_definition_whole_dataframe("annee_2025")
    suite = context.suites.add(gx.ExpectationSuite(name="marts_tfpb"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="taux", min_value=0, max_value=100))
    validation = context.validation_definitions.add(gx.ValidationDefinition(name="marts_tfpb", data=batch,
                                                                            suite=suite))
    checkpoint = context.checkpoints.add(gx.Checkpoint(name="controle_marts_tfpb", validation_definitions=[validation],
                                                       actions=[UpdateDataDocsAction(name="d", site_names=["bilan"])]))
    checkpoint.run(batch_parameters={"dataframe": pd.DataFrame({"taux": [12.0, 140.0, 88.0]})})
    return docs


def test_index_lists_the_validations_in_plain_html(tmp_path):
    docs = _site(tmp_path)
    make_offline(docs)
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert "https://" not in "".join(t for t in index.split("<") if t.startswith(("script", "link ")))
    assert "<script" not in index
    assert "Résultats des validations" in index and "Validation Results" not in index
    # the table bootstrap-table would have filled from a CDN is written out, each row linked to its validation
    table = index.split('ge-index-page-validation-results-table', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") >= 2 and 'href="validations/' in table and "marts_tfpb" in table


def test_index_opened_in_chromium_with_network_cut_lists_the_validation(tmp_path):
    from playwright.sync_api import sync_playwright

    from tools.screenshot import FLAGS

    assert CHROMIUM.exists(), "chromium absent : `make setup` l'installe (paquet Debian chromium)"
    docs = _site(tmp_path)
    make_offline(docs)
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        page = browser.new_context(offline=True).new_page()

        def route(r):
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                outside.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto((docs / "index.html").resolve().as_uri(), wait_until="load")
        rows = page.locator("table.ge-index-page-validation-results-table tbody tr")
        count, text = rows.count(), rows.all_inner_texts()
        tab = page.locator("#Validation-Results-tab").inner_text()
        link = rows.first.locator("a").first.get_attribute("href")
        page.screenshot(path=str(tmp_path / "index.png"))
        browser.close()
    assert outside == []
    assert count == 1 and "marts_tfpb" in text[0] and tab.strip() == "Résultats des validations"
    assert link is not None and (docs / link).is_file()   # the row opens the validation page, offline too

"""The Import page in Chromium with a real file upload: preview with the rejected rows named, publish,
roll back."""

import pandas as pd

from tests.e2e.test_browser import open_app, wait_for_idle


def test_an_administrator_uploads_previews_publishes_and_rolls_back(served_copy, browser, tmp_path):
    folder, url = served_copy
    wing = pd.read_parquet(folder / "wings.parquet").query("prison_id == 'WSI'")["wing_id"].iloc[0]
    upload = tmp_path / "incidents.csv"
    upload.write_text(
        "Exported from the incident log\n\n"
        "Incident ref,Establishment,Wing,Date of incident,Type of incident,Serious\n"
        f"U1,WSI,{wing},03/04/2024,Self harm,Yes\n"
        f"U2,WSI,{wing},32/04/2024,Use of force,No\n",
        encoding="utf-8",
    )
    before = (folder / "incidents.parquet").read_bytes()
    context, page = open_app(browser, f"{url}/import")
    try:
        page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(upload))
        page.get_by_text("1 row rejected").wait_for(timeout=60_000)
        wait_for_idle(page)
        text = page.inner_text("[data-testid=stMain]")
        assert "'32/04/2024' is not a date" in text and "occurred_on" in text
        publish = page.get_by_role("button", name="Publish")
        assert publish.is_disabled()  # rows were rejected: publishing the rest needs a decision
        page.get_by_text("Publish the accepted rows and leave the 1 rejected row out").click()
        wait_for_idle(page)
        publish.click()
        page.get_by_text("Published incidents").wait_for(timeout=60_000)
        published = pd.read_parquet(folder / "incidents.parquet").set_index("incident_id")
        assert "U1" in published.index and "U2" not in published.index
        assert str(published.loc["U1", "occurred_on"]) == "2024-04-03"

        page.get_by_role("button", name="Roll back this import").click()
        page.get_by_text("the files it replaced are back").wait_for(timeout=60_000)
        assert (folder / "incidents.parquet").read_bytes() == before
    finally:
        context.close()

"""The import pages: upload (CSV or XLSX), the mapping screen with its suggestions, status map
and options, the dry run's "import for real", the refused rows' download, and who may."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from leads import importing, tasks
from leads.models import ImportJob, ImportMapping, ImportRowError, Tag
from tests.factories import SAMPLE_DATA, TeamFactory, UserFactory

SALESFORCE = SAMPLE_DATA / "salesforce_leads_export.csv"
HUBSPOT = SAMPLE_DATA / "hubspot_contacts_export.csv"

ODD_CSV = (
    "Electronic Mail,Given,Family,Org,Stage Of Lead,Notes\r\n"
    "ada@engines.example,Ada,Lovelace,Engines Ltd,Working - Contacted,likes maths\r\n"
    "grace@navy.example,Grace,Hopper,Navy,Closed - Not Converted,\r\n"
    "not-an-email,Bad,Row,Nowhere,Working - Contacted,\r\n"
)


def upload(client, content: bytes, name: str = "people.csv"):
    return client.post(reverse("leads:imports"), {"file": SimpleUploadedFile(name, content)})


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def queued(callbacks) -> list[int]:
    """The jobs sent to the worker by the on-commit callbacks a request registered."""
    return [cb.args[0] for cb in callbacks if getattr(cb, "func", None) is tasks.enqueue_import]


def mapping_post(job, mapping, action="import", **options):
    data = {f"column_{index}": key for index, key in enumerate(mapping)}
    data |= {"merge_policy": "fill_blanks", "action": action}
    data |= options
    return data


@pytest.mark.django_db
def test_upload_waits_for_its_mapping_and_shows_columns_samples_and_suggestions(client_for, marketing):
    client = client_for(marketing)
    response = upload(client, SALESFORCE.read_bytes(), SALESFORCE.name)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:import_mapping", args=[job.pk])
    assert job.state == ImportJob.State.MAPPING and job.sheet_type == "csv"
    assert job.file_format == "salesforce" and job.headers[:3] == ["Lead ID", "First Name", "Last Name"]

    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    form = page.context["form"]
    assert [form[f"column_{i}"].initial for i in range(len(job.headers))] == [
        "external_id", "first_name", "last_name", "title", "company", "email", "phone", "source",
        "external_status", "industry", "employees", "annual_revenue", "country", "rating",
        "external_created_at",
    ]  # fmt: skip
    # Sample values of the first rows, the status values with their counts and defaults.
    first = next(csv.DictReader(SALESFORCE.open(encoding="utf-8-sig")))
    assert first["Email"] in body and first["Company"] in body
    statuses = {row.value: (row.count, field.initial) for row, field in page.context["statuses"]}
    assert statuses == {
        "Working - Contacted": (509, "mql"),
        "Open - Not Contacted": (501, "nurture"),
        "Closed - Not Converted": (498, "disqualified"),
    }
    assert "Every column is imported." in body
    # The import is not queued before its mapping is confirmed.
    assert ImportJob.objects.get().state == ImportJob.State.MAPPING


@pytest.mark.django_db
def test_hubspot_stage_and_score_are_suggested_and_stages_listed(client_for, marketing):
    client = client_for(marketing)
    upload(client, HUBSPOT.read_bytes(), HUBSPOT.name)
    job = ImportJob.objects.get()
    page = client.get(reverse("leads:import_mapping", args=[job.pk]))
    form = page.context["form"]
    suggested = dict(
        zip(job.headers, (form[f"column_{i}"].initial for i in range(len(job.headers))), strict=True)
    )
    assert suggested["Lifecycle Stage"] == "source_stage" and suggested["HubSpot Score"] == "source_score"
    outcomes = {(row.kind, row.value): field.initial for row, field in page.context["statuses"]}
    assert outcomes[("Lifecycle stage", "customer")] == "customer"
    assert outcomes[("Lifecycle stage", "opportunity")] == "review"
    assert outcomes[("Status", "UNQUALIFIED")] == "disqualified"


@pytest.mark.django_db
def test_confirming_saves_mapping_and_options_and_queues_once(
    client_for, marketing, campaign, django_capture_on_commit_callbacks
):
    owner = UserFactory(role="inbound_sdr")
    team = TeamFactory()
    Tag.objects.create(name="Migrated")
    client = client_for(marketing)
    upload(client, ODD_CSV.encode())
    job = ImportJob.objects.get()
    url = reverse("leads:import_mapping", args=[job.pk])
    page = client.get(url)
    # Nothing in the tables knows "Electronic Mail" or "Org": the person maps them by hand.
    assert [page.context["form"][f"column_{i}"].initial for i in range(6)] == ["", "", "", "", "", ""]
    mapping = ["email", "first_name", "last_name", "company", "external_status", ""]
    data = mapping_post(
        job,
        mapping,
        owner=owner.pk,
        team=team.pk,
        campaign=campaign.pk,
        tags="migrated, Trade show ,trade SHOW,",
        merge_policy="overwrite",
    )
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url, data)
    assert queued(callbacks) == [job.pk]
    assert response.status_code == 302 and response["Location"] == reverse(
        "leads:import_detail", args=[job.pk]
    )

    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED and job.dry_run is False
    assert job.mapping == mapping and job.merge_policy == "overwrite"
    assert (job.owner, job.team, job.campaign) == (owner, team, campaign)
    assert sorted(tag.name for tag in job.tags.all()) == ["Migrated", "Trade show"]
    assert Tag.objects.count() == 2
    # The status map holds the statuses found under the confirmed mapping, defaulted.
    # ("Stage Of Lead" was mapped by hand: its values are read under the mapping posted.)
    assert job.status_map == {
        "status:Working - Contacted": "mql",
        "status:Closed - Not Converted": "disqualified",
    }
    saved = ImportMapping.objects.get()
    assert saved.signature == importing.mapping_signature(job.headers)
    assert saved.columns["electronic mail"] == "email" and saved.columns["notes"] == ""

    # A second post (another tab) queues nothing more.
    with django_capture_on_commit_callbacks() as callbacks:
        again = client.post(url, data)
    assert again.status_code == 302 and queued(callbacks) == []

    # The next file with the same headers gets the whole mapping back...
    upload(client, ODD_CSV.encode(), "again.csv")
    second = ImportJob.objects.filter(state=ImportJob.State.MAPPING).get()
    form = client.get(reverse("leads:import_mapping", args=[second.pk])).context["form"]
    assert [form[f"column_{i}"].initial for i in range(6)] == mapping
    # ... and a file sharing some of the headers gets those columns.
    upload(client, b"Org,Electronic Mail,Phone\r\nAcme,x@acme.example,+1 555 0100\r\n", "other.csv")
    third = ImportJob.objects.filter(state=ImportJob.State.MAPPING, original_name="other.csv").get()
    form = client.get(reverse("leads:import_mapping", args=[third.pk])).context["form"]
    assert [form[f"column_{i}"].initial for i in range(3)] == ["company", "email", "phone"]


@pytest.mark.django_db
def test_status_map_choices_are_saved_on_the_job(client_for, marketing, django_capture_on_commit_callbacks):
    client = client_for(marketing)
    upload(client, b"Email,Lead Status\r\na@x.example,Closed - Not Converted\r\nb@x.example,Open\r\n")
    job = ImportJob.objects.get()
    url = reverse("leads:import_mapping", args=[job.pk])
    statuses = [row.value for row, _ in client.get(url).context["statuses"]]
    data = mapping_post(job, ["email", "external_status"])
    data |= {
        f"outcome_{statuses.index('Closed - Not Converted')}": "nurture",
        f"outcome_{statuses.index('Open')}": "review",
    }
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(url, data).status_code == 302
    job.refresh_from_db()
    assert job.status_map == {"status:Closed - Not Converted": "nurture", "status:Open": "review"}


@pytest.mark.django_db
def test_a_field_chosen_twice_or_no_email_is_a_form_error(client_for, marketing):
    client = client_for(marketing)
    upload(client, ODD_CSV.encode())
    job = ImportJob.objects.get()
    url = reverse("leads:import_mapping", args=[job.pk])

    twice = client.post(url, mapping_post(job, ["email", "company", "last_name", "company", "", ""]))
    assert twice.status_code == 400
    assert (
        "Company is chosen for several columns (&#x27;Given&#x27;, &#x27;Org&#x27;)" in twice.content.decode()
    )

    no_email = client.post(url, mapping_post(job, ["", "first_name", "last_name", "company", "", ""]))
    assert no_email.status_code == 400
    assert "Choose the column that holds the email" in no_email.content.decode()

    bad_tag = client.post(url, mapping_post(job, ["email", "", "", "", "", ""], tags="x" * 51))
    assert bad_tag.status_code == 400 and "A tag is at most 50 characters" in bad_tag.content.decode()
    job.refresh_from_db()
    assert job.state == ImportJob.State.MAPPING and job.mapping == []
    assert not ImportMapping.objects.exists() and not Tag.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "file is empty"),
        (b"\x00\x01binary", "data.csv", "not a CSV"),
        (b"PK\x03\x04 not really a zip", "people.xlsx", "not a readable XLSX workbook"),
        (b"just,some,text", "people.xlsx", "not a readable XLSX workbook"),
        (b"\r\n\r\n", "blank.csv", "no header row"),
    ],
)
def test_a_bad_file_is_a_form_error(client_for, marketing, content, name, message):
    response = upload(client_for(marketing), content, name)
    assert response.status_code == 400 and message in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_an_xlsx_workbook_is_mapped_from_its_first_sheet(client_for, marketing):
    content = xlsx_bytes([["E-mail", "Company", "Employees"], ["ada@engines.example", "Engines", 250.0]])
    client = client_for(marketing)
    response = upload(client, content, "people.xlsx")
    job = ImportJob.objects.get()
    assert (
        response.status_code == 302
        and job.sheet_type == "xlsx"
        and job.headers == ["E-mail", "Company", "Employees"]
    )
    page = client.get(reverse("leads:import_mapping", args=[job.pk]))
    assert [page.context["form"][f"column_{i}"].initial for i in range(3)] == [
        "email",
        "company",
        "employees",
    ]
    assert [column.samples for column in page.context["columns"]] == [
        ["ada@engines.example"],
        ["Engines"],
        ["250"],
    ]


@pytest.mark.django_db
def test_mapping_page_queries_do_not_grow_with_the_file_or_saved_mappings(
    client_for, marketing, django_assert_max_num_queries
):
    client = client_for(marketing)

    def page_queries(rows: int, saved: int):
        for index in range(saved):
            ImportMapping.objects.create(
                signature=f"{rows}-{index}", columns={"mail": "email", f"x{index}": ""}
            )
        lines = ["Mail,Lead Status,Stage"] + [
            f"p{i}@x.example,status {i % 50},stage {i % 7}" for i in range(rows)
        ]
        upload(client, "\r\n".join(lines).encode(), f"{rows}.csv")
        job = ImportJob.objects.get(original_name=f"{rows}.csv")
        with django_assert_max_num_queries(12) as captured:
            assert client.get(reverse("leads:import_mapping", args=[job.pk])).status_code == 200
        return len(captured)

    assert page_queries(5, 1) == page_queries(2000, 40)


@pytest.mark.django_db
def test_dry_run_report_and_import_for_real(client_for, marketing, django_capture_on_commit_callbacks):
    client = client_for(marketing)
    upload(client, ODD_CSV.encode())
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(
            reverse("leads:import_mapping", args=[job.pk]),
            mapping_post(
                job, ["email", "first_name", "last_name", "company", "", ""], action="dry_run", tags="fair"
            ),
        )
    job.refresh_from_db()
    assert job.dry_run is True and job.state == ImportJob.State.QUEUED and queued(callbacks) == [job.pk]
    # The worker's counts as a dry run reports them (written here, as the task would).
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.DONE, created_count=2, refused_count=1, processed_rows=3, total_rows=3
    )
    ImportRowError.objects.create(job=job, line=4, reason="email 'not-an-email' is not a valid address")
    body = client.get(reverse("leads:import_detail", args=[job.pk])).content.decode()
    assert "dry run: nothing was written" in body and "would be created" in body
    assert "Import for real" in body and "Leads from this import" not in body

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("leads:import_for_real", args=[job.pk]))
    real = ImportJob.objects.exclude(pk=job.pk).get()
    assert response["Location"] == reverse("leads:import_detail", args=[real.pk])
    assert queued(callbacks) == [real.pk]
    assert real.state == ImportJob.State.QUEUED and real.dry_run is False
    assert (real.file.name, real.original_name, real.mapping, real.headers) == (
        job.file.name, job.original_name, job.mapping, job.headers,
    )  # fmt: skip
    assert [tag.name for tag in real.tags.all()] == ["fair"]
    # A real import is not imported "for real" again.
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("leads:import_for_real", args=[real.pk]))
    assert ImportJob.objects.count() == 2 and queued(callbacks) == []


@pytest.mark.django_db
def test_finished_import_links_its_leads_and_separates_warnings(client_for, marketing):
    client = client_for(marketing)
    upload(client, ODD_CSV.encode())
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.DONE, refused_count=1, warning_count=1)
    ImportRowError.objects.create(job=job, line=4, reason="email 'not-an-email' is not a valid address")
    ImportRowError.objects.create(
        job=job, line=2, reason="company: shortened from 5,000 to 200 characters", warning=True
    )
    body = client.get(reverse("leads:import_detail", args=[job.pk])).content.decode()
    assert f'href="{reverse("leads:list")}?import={job.pk}"' in body
    assert reverse("leads:import_refused", args=[job.pk]) in body
    refused = body[body.index('id="refused-rows"') : body.index('id="warned-rows"')]
    warned = body[body.index('id="warned-rows"') :]
    assert "not a valid address" in refused and "shortened" not in refused
    assert "company: shortened from 5,000 to 200 characters" in warned


def _refuse_as_the_writer_does(job) -> None:
    """Read the job's file under its mapping and record each refused row with its cells, as
    the import's writing does (``ImportRowError.cells`` from ``iter_rows(...).last_cells``)."""
    with job.file.open("rb") as handle:
        rows = importing.iter_rows(handle, sheet_type=job.sheet_type, mapping=job.mapping)
        for line, raw in rows:
            try:
                importing.clean_row(raw)
            except importing.RowRefused as exc:
                ImportRowError.objects.create(
                    job=job, line=line, reason=str(exc), email=raw.get("email", ""), cells=rows.last_cells
                )


@pytest.mark.django_db
def test_refused_rows_download_fixes_and_uploads_again(
    client_for, marketing, django_capture_on_commit_callbacks
):
    client = client_for(marketing)
    content = ODD_CSV + "=cmd|' /C calc'!A0,Evil,Row,Corp,Open,\r\n"
    upload(client, content.encode())
    job = ImportJob.objects.get()
    mapping = ["email", "first_name", "last_name", "company", "external_status", ""]
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("leads:import_mapping", args=[job.pk]), mapping_post(job, mapping))
    job.refresh_from_db()
    _refuse_as_the_writer_does(job)
    ImportRowError.objects.create(
        job=job, line=3, reason="a warning, not a refusal", warning=True, cells=["x"]
    )

    response = client.get(reverse("leads:import_refused", args=[job.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "Electronic Mail",
        "Given",
        "Family",
        "Org",
        "Stage Of Lead",
        "Notes",
        "Refused because",
    ]
    assert rows[1][:6] == ["not-an-email", "Bad", "Row", "Nowhere", "Working - Contacted", ""]
    assert rows[1][6].startswith("email 'not-an-email' is not a valid address")
    assert rows[2][0] == "'=cmd|' /C calc'!A0"  # formula-safe
    assert len(rows) == 3

    # Fixed and uploaded again: the same mapping comes back, the reason column ignored.
    fixed = text.replace("not-an-email", "bad.row@nowhere.example").replace(
        "'=cmd|' /C calc'!A0", "evil@corp.example"
    )
    upload(client, fixed.encode("utf-8-sig"), "fixed.csv")
    again = ImportJob.objects.get(original_name="fixed.csv")
    form = client.get(reverse("leads:import_mapping", args=[again.pk])).context["form"]
    assert [form[f"column_{i}"].initial for i in range(7)] == [*mapping, ""]
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("leads:import_mapping", args=[again.pk]), mapping_post(again, [*mapping, ""]))
    again.refresh_from_db()
    assert again.state == ImportJob.State.QUEUED and again.mapping == [*mapping, ""]
    # What the import will read from it under that mapping: both rows clean, nothing refused.
    with again.file.open("rb") as handle:
        cleaned = [importing.clean_row(raw) for _, raw in importing.iter_rows(handle, mapping=again.mapping)]
    assert [(row.email, row.company, row.external_status) for row in cleaned] == [
        ("bad.row@nowhere.example", "Nowhere", "Working - Contacted"),
        ("evil@corp.example", "Corp", "Open"),
    ]


@pytest.mark.django_db
def test_import_pages_are_for_who_may_import(client_for, marketing, manager, inbound_sdr, ae):
    client = client_for(marketing)
    upload(client, ODD_CSV.encode())
    job = ImportJob.objects.get()
    pages = [
        ("get", reverse("leads:import_mapping", args=[job.pk])),
        ("post", reverse("leads:import_mapping", args=[job.pk])),
        ("get", reverse("leads:import_refused", args=[job.pk])),
        ("post", reverse("leads:import_for_real", args=[job.pk])),
        ("get", reverse("leads:import_detail", args=[job.pk])),
    ]
    for user in (inbound_sdr, ae):
        other = client_for(user)
        for method, url in pages:
            assert getattr(other, method)(url).status_code == 403, (user.role, url)
    # A manager sees and maps marketing's upload.
    assert client_for(manager).get(reverse("leads:import_mapping", args=[job.pk])).status_code == 200
    job.refresh_from_db()
    assert job.state == ImportJob.State.MAPPING

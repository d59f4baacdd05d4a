"""The choices the lead models share: channels, activity kinds (and which of them are a
rep's touches or a capture's), touch outcomes, activity sources, seniority and fit fields."""

from django.db import models


class Channel(models.TextChoices):
    WEB = "web", "Web"
    ORGANIC_SEARCH = "organic_search", "Organic search"
    PAID_SEARCH = "paid_search", "Paid search"
    EMAIL = "email", "Email marketing"
    SOCIAL = "social", "Social media"
    REFERRAL = "referral", "Referral"
    PARTNER = "partner", "Partner"
    EVENT = "event", "Event / trade show"
    WEBINAR = "webinar", "Webinar"
    PHONE = "phone", "Phone inquiry"
    LIST = "list", "Purchased list"
    DIRECT = "direct", "Direct traffic"
    OFFLINE = "offline", "Offline"
    OUTBOUND = "outbound", "Outbound prospecting"
    OTHER = "other", "Other"


class ActivityKind(models.TextChoices):
    VISIT = "visit", "Website visit"
    DOWNLOAD = "download", "Content download"
    DEMO_VIEW = "demo_view", "Demo video viewed"
    EMAIL_OPEN = "email_open", "Email opened"
    EMAIL_CLICK = "email_click", "Email link clicked"
    EMAIL_REPLY = "email_reply", "Email reply"
    NURTURE_EMAIL = "nurture_email", "Nurture email sent"
    FORM_FILL = "form_fill", "Form filled"
    WEBINAR = "webinar", "Webinar attended"
    EVENT = "event", "Event visit"
    CALL_ANSWERED = "call_answered", "Call answered"
    MEETING_REQUEST = "meeting_request", "Asked for a call"
    IMPORTED = "imported", "Imported from a CRM export"
    # Touches: what a rep does to reach the prospect (logged from the queue).
    CALL = "call", "Call"
    EMAIL = "email", "Email sent"
    VOICEMAIL = "voicemail", "Voicemail left"
    SOCIAL = "social", "Social message"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"


TOUCH_KINDS = (
    ActivityKind.CALL,
    ActivityKind.EMAIL,
    ActivityKind.VOICEMAIL,
    ActivityKind.SOCIAL,
    ActivityKind.MEETING_BOOKED,
)


# What a person or a system may record; imports are recorded only by the importer.
# What a capture (form, API) may record: the prospect's doings, not an import or a rep's touch.
CAPTURABLE_ACTIVITIES = [
    (k, label) for k, label in ActivityKind.choices if k != ActivityKind.IMPORTED and k not in TOUCH_KINDS
]


class TouchOutcome(models.TextChoices):
    CONNECTED = "connected", "Connected"
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    REPLIED = "replied", "Replied"
    MEETING_SET = "meeting_set", "Meeting set"
    NOT_INTERESTED = "not_interested", "Not interested"
    WRONG_CONTACT = "wrong_contact", "Wrong contact / bad number"


class ActivitySource(models.TextChoices):
    WEB_FORM = "web_form", "Web form"
    API = "api", "API"
    IMPORT = "import", "CSV import"
    MANUAL = "manual", "Logged by a person"
    EMAIL = "email", "Email (sent, tracked or read by Refinery)"


# Where a rep's touch comes from: logged by the rep, or an email Refinery sent for them (a
# nurture track's email is marketing's, of its own kind, and no touch).
TOUCH_SOURCES = (ActivitySource.MANUAL, ActivitySource.EMAIL)


class Seniority(models.TextChoices):
    C_LEVEL = "c_level", "C-level / founder"
    VP = "vp", "VP"
    DIRECTOR = "director", "Director / head"
    MANAGER = "manager", "Manager"
    INDIVIDUAL = "individual", "Individual contributor"
    UNKNOWN = "", "Unknown"


class FitField(models.TextChoices):
    INDUSTRY = "industry", "Industry"
    EMPLOYEES = "employees", "Employee count"
    ANNUAL_REVENUE = "annual_revenue", "Annual revenue"
    SENIORITY = "seniority", "Seniority (from title)"
    COUNTRY = "country", "Country"


NUMERIC_FIT_FIELDS = {FitField.EMPLOYEES, FitField.ANNUAL_REVENUE}

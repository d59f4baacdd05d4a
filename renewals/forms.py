"""Forms of the AM's pages: add a contract, give an account to an AM, log a renewal
conversation, record a renewal's outcome, open an upsell from an expansion lead or send it back
("not now"), upload a contract CSV.

The forms parse and type the input; the rules (a term ends after it starts, an expansion is
worth more, a churn has a reason) are ``services.Terms.problems()`` and the services', whose
refusals the views put beside the field they name (``kit.errors.add_refusal``).
"""

from typing import Any, cast

from django import forms

from kit import bounds

from .models import CHURN_REASONS, Contract
from .services import NOT_NOW_REASONS, Terms

NOTE_MAX = 2000
CONVERSATION_MAX = 480  # log_conversation's limit: the note becomes an account event (500)
MONEY_ERRORS = {
    **bounds.MONEY_MESSAGES,
    "min_value": "The annual value is an amount of zero or more.",
}
SEATS_ERRORS = {
    "invalid": "Seats are a whole number, e.g. 25.",
    "min_value": "Seats are a whole number of zero or more.",
    "max_value": "Enter fewer seats.",
}


class TermDateField(bounds.DateField):
    """A contract date, in the sane range (``kit.bounds``): a term ending in 9999 could not
    be renewed (its next term would start in year 10000)."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _money(required: bool) -> forms.DecimalField:
    return bounds.MoneyField(
        required=required,
        label="Annual value",
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
        error_messages={"required": "Enter the annual value.", **MONEY_ERRORS},
    )


def _seats() -> forms.IntegerField:
    return bounds.CountField(
        required=False, widget=forms.NumberInput(attrs={"min": "0"}), error_messages=SEATS_ERRORS
    )


class ContractForm(forms.Form):
    """A contract term entered by hand on the account page."""

    start_date = TermDateField(label="Start", error_messages={"required": "Enter the first day of the term."})
    end_date = TermDateField(
        label="End (last day)", error_messages={"required": "Enter the term's last day."}
    )
    annual_value = _money(required=True)
    products = forms.CharField(required=False, max_length=300, label="Products")
    seats = _seats()
    auto_renew = forms.BooleanField(required=False, label="Renews itself at the end date")
    number = forms.CharField(required=False, max_length=64, label="Contract number")

    def clean_number(self) -> str:
        number = self.cleaned_data["number"].strip()
        if number and Contract.objects.filter(number=number).exists():
            raise forms.ValidationError("Another contract has this number.")
        return number

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        for field, message in self.terms().problems().items():
            self.add_error(field if field in self.fields else None, message)
        return data

    def terms(self) -> Terms:
        data = self.cleaned_data
        return Terms(
            start_date=data["start_date"],
            end_date=data["end_date"],
            annual_value=data["annual_value"],
            products=data["products"].strip(),
            seats=data["seats"],
            auto_renew=data["auto_renew"],
            number=data["number"],
        )


class AssignForm(forms.Form):
    """Give the account to an AM, or back to the territory's round-robin ("")."""

    account_manager = forms.ChoiceField(
        label="Account manager",
        required=False,
        error_messages={"invalid_choice": "Choose an account manager from the list."},
    )
    reason = forms.CharField(required=False, max_length=300, label="Why (optional)")

    def __init__(self, *args, ams=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ams = {str(am.pk): am for am in ams}
        cast(forms.ChoiceField, self.fields["account_manager"]).choices = [
            ("", "By territory (round-robin)"),
            *[(pk, str(am)) for pk, am in self.ams.items()],
        ]

    def chosen(self):
        """The AM chosen, or None for the territory's pick."""
        return self.ams.get(self.cleaned_data["account_manager"])


class ConversationForm(forms.Form):
    """What the AM and the customer said about the renewal."""

    note = forms.CharField(
        max_length=CONVERSATION_MAX,
        label="What was discussed",
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Who you spoke to, what they said, next step"}
        ),
        error_messages={
            "required": "Say what was discussed.",
            "max_length": f"Keep the note under {CONVERSATION_MAX} characters.",
        },
    )


class OutcomeForm(forms.Form):
    """How the renewal ended. The new term's fields default to the current term's (the view
    fills them from ``services.next_terms``); a churn takes a reason instead."""

    outcome = forms.ChoiceField(
        choices=Contract.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose renewed, expanded, downsized or churned.",
            "invalid_choice": "Choose renewed, expanded, downsized or churned.",
        },
    )
    annual_value = _money(required=False)
    end_date = TermDateField(required=False, label="New term ends")
    seats = _seats()
    products = forms.CharField(required=False, max_length=300)
    churn_reason = forms.ChoiceField(
        required=False,
        label="Why they left",
        choices=[("", "Choose a reason…"), *[(r, r) for r in CHURN_REASONS]],
        error_messages={"invalid_choice": "Choose a reason from the list."},
    )
    note = forms.CharField(
        required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": f"Keep the note under {NOTE_MAX} characters."},
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("outcome") == Contract.Outcome.CHURNED and not data.get("churn_reason"):
            self.add_error("churn_reason", "Choose why they left.")
        return data


# --- the expansion leads' actions -------------------------------------------------------------


class UpsellForm(forms.Form):
    """What the AM opens: a name, what the customer wants (the need), an amount if known."""

    name = forms.CharField(
        max_length=200,
        error_messages={
            "required": "Name the opportunity, e.g. “Acme: 20 more seats”.",
            "max_length": "Keep the name under 200 characters.",
        },
    )
    amount = bounds.MoneyField(required=False)
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What the customer wants (required)"}),
        error_messages={
            "required": "Say what the customer wants: it is the opportunity's need.",
            "max_length": "Keep the note under 2,000 characters.",
        },
    )


class NotNowForm(forms.Form):
    """Why the customer is not buying now, and a note for the timeline."""

    reason = forms.ChoiceField(
        choices=[("", "Why not now?"), *[(r, r) for r in NOT_NOW_REASONS]],
        error_messages={"required": "Choose a reason.", "invalid_choice": "Choose a reason from the list."},
    )
    note = forms.CharField(
        required=False, max_length=480, error_messages={"max_length": "Keep the note under 480 characters."}
    )


# --- the contract import ---------------------------------------------------------------------


class ContractUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="A header row naming Domain, Start Date, End Date and Annual Value columns "
        "(Account, Contract Number, Products, Seats, Auto Renew and Account Manager optional).",
        error_messages={"required": "Choose a CSV file.", "empty": "The file is empty."},
    )

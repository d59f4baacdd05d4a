"""The account merge screen's form: which account survives, and per field that differs whose
value stays (radio buttons valued with the account's id)."""

from django import forms

from accounts.models import Account

from ..services import ACCOUNT_FIELDS

LABELS = {
    "name": "Name",
    "domain": "Domain",
    "industry": "Industry",
    "country": "Country",
    "employees": "Employees",
    "prospector": "Prospected by (outbound SDR)",
}


def shown(account: Account, name: str) -> str:
    value = getattr(account, name)
    return "—" if value in ("", None) else str(value)


def _raw(account: Account, name: str):
    return account.prospector_id if name == "prospector" else getattr(account, name)


def differing_fields(first: Account, second: Account) -> list[str]:
    return [name for name in ACCOUNT_FIELDS if _raw(first, name) != _raw(second, name)]


def default_survivor(first: Account, second: Account) -> Account:
    """The account that keeps the most: a customer first, then more attached, then the older."""

    def weight(a: Account) -> tuple:
        held = (
            getattr(a, "contact_count", 0)
            + getattr(a, "opportunity_count", 0)
            + getattr(a, "contract_count", 0)
        )
        return (a.customer_since is not None, held, -a.pk)

    return max((first, second), key=weight)


class AccountMergeForm(forms.Form):
    """The survivor, then one choice per differing field."""

    def __init__(self, *args, first: Account, second: Account, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.first, self.second = first, second
        keep = default_survivor(first, second)
        other = second if keep is first else first
        choices = [
            (str(first.pk), f"{first.name} (account {first.pk})"),
            (str(second.pk), f"{second.name} (account {second.pk})"),
        ]
        self.fields["survivor"] = forms.ChoiceField(
            label="Keep",
            choices=choices,
            initial=str(keep.pk),
            widget=forms.RadioSelect,
            error_messages={
                "required": "Choose the account that stays.",
                "invalid_choice": "Choose one of the two accounts.",
            },
        )
        self.differing = differing_fields(first, second)
        for name in self.differing:
            initial = keep if _raw(keep, name) not in ("", None) else other
            self.fields[name] = forms.ChoiceField(
                label=LABELS[name],
                choices=[(str(first.pk), shown(first, name)), (str(second.pk), shown(second, name))],
                initial=str(initial.pk),
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Choose whose value stays.",
                    "invalid_choice": "Choose one of the two values.",
                },
            )

    def survivor_and_merged(self) -> tuple[int, int]:
        survivor = int(self.cleaned_data["survivor"])
        return survivor, self.second.pk if survivor == self.first.pk else self.first.pk

    def chosen(self) -> dict[str, str]:
        """Field -> "survivor" or "merged", as the service takes it."""
        survivor, _ = self.survivor_and_merged()
        return {
            name: "survivor" if int(self.cleaned_data[name]) == survivor else "merged"
            for name in self.differing
        }

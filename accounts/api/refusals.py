"""How the hand-off and target-account APIs answer a service's refusal: always as bad input
(400), on the field it names or in ``non_field_errors``, as these endpoints have always done
(a lead or account the caller may not use is named in the body, so a refusal about it is about
the input). The opportunities API leaves its refusals to the kit's one handler
(``kit.api_errors``: 400 on a field, 409 for a state)."""

from rest_framework import serializers

from kit.errors import Refused


def as_bad_input(exc: Refused) -> serializers.ValidationError:
    return serializers.ValidationError({exc.field or "non_field_errors": [str(exc)]})

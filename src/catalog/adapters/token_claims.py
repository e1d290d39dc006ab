"""Verified JWT claims -> Principal, for every way of authenticating (local, apigw, jwks).

Free of PyJWT on purpose: behind API Gateway the token is verified before the Lambda runs, so
the cold path must not pay for importing a JWT library (and the cryptography it loads).

Claims arrive in more shapes than JSON's: API Gateway's HTTP API (payload 2.0) hands every
claim to the integration as a string, rendering an array claim as `[merchant platform]`
(brackets, space separated) and a number as `"1735689600"`; identity providers that cannot
emit arrays put roles in one comma or space separated string; REST APIs and direct calls keep
the JSON types. All of them mean the same roles here.

A channel principal's merchant scope comes from its own claim (`merchants` unless configured):
merchant ids, or `*` for every merchant, in any of the list shapes above. A token without it
acts for no merchant: a channel adapter's reach is only ever what its issuer wrote down.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

# The TokenVerifier port's errors: every verifier raises these.
from catalog.service.ports import InvalidToken
from catalog.service.principals import MERCHANT, Principal

DEFAULT_MERCHANT_CLAIM = "merchant_id"
DEFAULT_ROLES_CLAIM = "roles"
DEFAULT_MERCHANTS_CLAIM = "merchants"

_SEPARATORS = re.compile(r"[\s,]+")


def claim_list(value: object) -> list[str]:
    """A multi-valued claim as a list of strings, whichever shape it arrived in.

    `["a", "b"]`, `'["a","b"]'`, `"[a b]"`, `"a,b"` and `"a b"` all give `["a", "b"]`;
    None and "" give []. Raises InvalidToken for anything else (numbers, objects).
    """
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                decoded = json.loads(text)
            except ValueError:
                # API Gateway's rendering of an array: [a b c]
                text = text[1:-1]
            else:
                return claim_list(decoded) if isinstance(decoded, list) else [text]
        return [item for item in _SEPARATORS.split(text) if item]
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise InvalidToken("a list claim must be a list of strings or a string")


def principal_from_claims(
    claims: Mapping[str, object],
    *,
    merchant_claim: str = DEFAULT_MERCHANT_CLAIM,
    roles_claim: str = DEFAULT_ROLES_CLAIM,
    merchants_claim: str = DEFAULT_MERCHANTS_CLAIM,
) -> Principal:
    """The caller described by already verified claims; `sub` is required, roles default to
    `merchant`, a channel scope to no merchant."""
    subject = claims.get("sub")
    if not isinstance(subject, str | int) or isinstance(subject, bool) or subject == "":
        raise InvalidToken("the sub claim is required")
    roles = claim_list(claims.get(roles_claim)) or [MERCHANT]
    merchant_id = claims.get(merchant_claim)
    return Principal(
        subject=str(subject),
        merchant_id=merchant_id if isinstance(merchant_id, str) and merchant_id else None,
        roles=frozenset(roles),
        channel_merchants=frozenset(claim_list(claims.get(merchants_claim))),
    )

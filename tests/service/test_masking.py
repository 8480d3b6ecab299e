"""What a role may read in rows of customers: ids and the words customers wrote."""

from cximpact.service.auth import Principal
from cximpact.service.queries import _mask

ROW = {
    "customer_id": "C0001",
    "why": '2 contacts on billing_error; asked to escalate ("speak to a manager"); '
    'talked about leaving ("close my account")',
}


def test_roles_without_text_never_see_what_customers_wrote() -> None:
    viewer = _mask([ROW], Principal(1, "v", "viewer"))[0]
    assert viewer["why"] == "2 contacts on billing_error; asked to escalate; talked about leaving"
    assert viewer["customer_id"] != "C0001"
    owner = _mask([ROW], Principal(2, "o", "owner", owner="noc"))[0]
    assert "manager" not in owner["why"]


def test_analysts_see_the_phrases_and_the_ids() -> None:
    analyst = _mask([ROW], Principal(3, "a", "analyst"))[0]
    assert analyst == ROW

"""The README's "Human approval" example, run as written against the session's local stack: a person approves
on the page sent by e-mail, or rejects there with a reason (issue 15)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from .conftest import SdkStack

README = Path(__file__).resolve().parents[2] / "README.md"


def example() -> str:
    section = README.read_text().split("### Human approval\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize(
    ("form", "printed"),
    [
        ({"action": "approve", "field:amount": "120", "field:note": "Sorry!"}, ("Approved:", 120)),
        ({"action": "reject", "reason": "Outside the 30-day window"}, ("Rejected:", "Outside the 30-day window")),
    ],
)
def test_the_human_approval_example(sdk_stack: SdkStack, form: dict[str, str], printed: tuple[Any, ...]) -> None:
    import uuid

    from waitpoints import wait

    wait.configure(api_url=sdk_stack.url, secret_key=sdk_stack.key)
    output: list[tuple[Any, ...]] = []
    sent: list[dict[str, str]] = []

    def send_email(*, to: str, subject: str, link: str) -> None:
        sent.append({"to": to, "subject": subject, "link": link})
        page = httpx.get(link)  # what a link scanner or the person's first look does: nothing changes
        assert page.status_code == 200 and "Refund order" in page.text
        assert httpx.post(link, data=form).status_code == 303  # the person's click

    namespace = {"send_email": send_email, "order_id": uuid.uuid4().hex[:8], "print": lambda *a: output.append(a)}
    exec(compile(example(), str(README), "exec"), namespace)
    assert sent and "/approval/" in sent[0]["link"]
    assert output == [printed]

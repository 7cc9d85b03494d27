"""What is sent: a :class:`Notification` (channel-independent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["red", "yellow", "blue", "info"]
LEVELS: tuple[str, ...] = ("red", "yellow", "blue", "info")


class Notification(BaseModel):
    """One message for people: a subject, a markdown (or plain) text and a level.

    ``dedup_key`` makes sending idempotent per channel: a notification whose key was
    already queued on a channel is not queued again (an alert uses
    ``alert:<rule>:<store>:<day>``). Attachments are files; channels that cannot carry
    files (robots, webhooks) name them in the text instead.
    """

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=500)
    text: str = ""
    level: Level = "info"
    attachments: list[Path] = Field(default_factory=list)
    dedup_key: str | None = Field(default=None, max_length=200)

    def to_payload(self) -> dict[str, Any]:
        """JSON-safe form stored with the delivery."""
        data = self.model_dump(mode="json")
        return data

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Notification:
        return cls.model_validate(payload)

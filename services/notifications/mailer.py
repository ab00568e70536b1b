"""E-mail over SMTP (aiosmtplib). A refusal the server calls permanent (5xx) is not retried."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib

from services.notifications.domain.emails import Mail


class PermanentMailFailure(Exception):
    pass


class TemporaryMailFailure(Exception):
    pass


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str = ""
    password: str = ""
    start_tls: bool = False
    use_tls: bool = False
    timeout: float = 30.0
    sender: str = "MIMIS <no-reply@mikromeriter.skane.se>"
    drop_dir: str = ""  # development: write .eml files here instead of sending


class Mailer:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def message(self, to: str, mail: Mail, language: str, message_id: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = to
        msg["Subject"] = mail.subject
        # Stable per delivery, so a repeat after a crash can be recognised by mail systems too.
        msg["Message-ID"] = make_msgid(idstring=message_id, domain="mikromeriter.skane.se")
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(mail.body)
        msg["Content-Language"] = language  # after set_content, which clears the Content-* headers
        return msg

    async def send(self, to: str, mail: Mail, language: str, message_id: str) -> None:
        c = self.config
        if c.drop_dir:
            message = self.message(to, mail, language, message_id)
            await asyncio.to_thread(_drop, Path(c.drop_dir) / f"{message_id}.eml", message.as_bytes())
            return
        try:
            await aiosmtplib.send(
                self.message(to, mail, language, message_id), hostname=c.host, port=c.port,
                username=c.username or None, password=c.password or None, start_tls=c.start_tls,
                use_tls=c.use_tls, timeout=c.timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if all(500 <= code < 600 for code in codes):
                raise PermanentMailFailure(f"recipient refused: {codes}") from exc
            raise TemporaryMailFailure(f"recipient refused for now: {codes}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentMailFailure(f"SMTP {exc.code}: {exc.message}") from exc
            raise TemporaryMailFailure(f"SMTP {exc.code}: {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryMailFailure(f"{type(exc).__name__}: {exc}") from exc


def _drop(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)

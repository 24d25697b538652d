"""Who is guessing passwords, and when to stop them (django-axes, configured in settings.py).

Two limits, each counted over the last AXES_COOLOFF_TIME:

- AXES_FAILURE_LIMIT wrong passwords for one username from one address lock that username from that address.
  Someone elsewhere cannot lock a colleague out: their failures count against their own address.
- LOGIN_FAILURE_LIMIT_PER_ADDRESS wrong passwords from one address, whatever the usernames, lock that address:
  a guesser who tries many usernames is stopped, while a team behind one office address keeps room for its typos.

The address is the client's, not the reverse proxy's: with ANNOTATOR_TRUSTED_PROXIES proxies in front, it is the
one the outermost of them saw (see client_ip). The password change form counts as a login (PasswordChangeForm).
"""

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db.models import Sum
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or behind n trusted proxies the n-th address from the right of X-Forwarded-For.

    Each proxy appends the address it was reached from, so the last n entries are the proxies' own word; anything
    further left is whatever the client sent and is never believed. A request that carries fewer entries did not
    come through the proxies, and its REMOTE_ADDR is the truth.
    """
    proxies = settings.ANNOTATOR_TRUSTED_PROXIES
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        try:
            return str(ipaddress.ip_address(forwarded[-proxies]))
        except ValueError:  # a proxy that writes something else is misconfigured: count the connection's address
            return request.META.get("REMOTE_ADDR")
    return request.META.get("REMOTE_ADDR")


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit of its own for each of AXES_LOCKOUT_PARAMETERS' two combinations:
    [username, ip_address] (AXES_FAILURE_LIMIT) and ip_address alone (LOGIN_FAILURE_LIMIT_PER_ADDRESS)."""

    def get_failures(self, request, credentials=None) -> int:
        by_username, by_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if by_address >= settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS:
            return max(by_username, settings.AXES_FAILURE_LIMIT)  # the address is locked: so is every username
        return by_username

    def reset_user_attempts(self, request, credentials=None) -> int:
        """A successful login clears that username's failures from that address only: logging in to one's own
        account must not clear the address's count, or a guesser with an account could guess on forever."""
        by_username, _ = self.filter_user_attempts(request, credentials)
        count, _ = by_username.delete()
        return count


def password_guess_refused(request: HttpRequest, username: str) -> bool:
    """Whether this user's current password may not be checked now; if so the answer is the lockout page, as for a
    locked login (AxesMiddleware answers for a request marked locked out)."""
    credentials = get_credentials(username)
    if AxesProxyHandler.is_allowed(request, credentials):
        return False
    request.axes_locked_out, request.axes_credentials = True, credentials
    return True


def password_guess_failed(request: HttpRequest, username: str) -> None:
    """A wrong current password counts as a failed login (and locks, as a login would)."""
    user_login_failed.send(sender=__name__, credentials=get_credentials(username), request=request)

"""The "Change password" page: every signed-in user, whatever their role, changes their own password here."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render

from core.forms import submit

from ..services import password_change


@login_required
def password_change_view(request):
    """Django's form (the current password, the new one twice, checked against the password rules); the
    change itself is the service's, which also revokes the user's API tokens. This session stays signed in;
    the user's other sessions end."""
    form = PasswordChangeForm(request.user, request.POST or None)
    status = 200
    if request.method == "POST":
        status, revoked = submit(
            form,
            lambda: password_change(user=request.user, password=form.cleaned_data["new_password1"], actor=request.user),
        )
        if status == 200:
            update_session_auth_hash(request, request.user)
            tokens = f" and {revoked} API token{'s' if revoked != 1 else ''} revoked" if revoked else ""
            messages.success(request, f"Password changed: your other sessions are signed out{tokens}.")
            return redirect("dashboard")
    return render(request, "registration/password_change_form.html", {"form": form}, status=status)

"""The user's notifications, one row per case and paged, with "mark all read" and the e-mail choice."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .. import selectors
from ..forms import EmailModeForm
from ..services import notifications
from .common import paginate

PAGE_SIZE = 50


@login_required
def notification_list(request):
    if request.method == "POST":
        if "email_mode" in request.POST:
            form = EmailModeForm(request.POST)
            if form.is_valid():
                notifications.notification_preference_set(user=request.user, email_mode=form.cleaned_data["email_mode"])
                messages.success(request, "Your e-mail choice is saved.")
        else:
            count = notifications.notifications_mark_read(user=request.user)
            messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
        return redirect("notification_list")
    page = paginate(request, selectors.notifications_by_case(request.user), PAGE_SIZE)
    form = EmailModeForm(initial={"email_mode": selectors.email_mode_of(request.user)})
    return render(request, "escalations/notifications.html", {"page": page, "form": form})

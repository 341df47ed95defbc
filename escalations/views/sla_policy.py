"""The SLA policy page: the operations team reads it; who may configure Percolate changes it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from core.forms import submit
from core.permissions import Capability, require

from ..forms import SlaPolicyForm
from ..models import SlaPolicy
from ..services import sla_policy_update


@login_required
def sla_policy(request):
    require(request.user, Capability.READ_OPERATIONS)
    form = SlaPolicyForm(request.POST or None, instance=SlaPolicy.current())
    status = 200
    if request.method == "POST":
        require(request.user, Capability.CONFIGURE)  # refused for the role (403) whatever was typed
        status, _ = submit(form, lambda: sla_policy_update(actor=request.user, **form.cleaned_data))
        if status == 200:
            messages.success(request, "SLA policy saved; it applies to deadlines set from now on.")
            return redirect("sla_policy")
    return render(request, "escalations/sla_policy.html", {"form": form}, status=status)

"""The SLA policy page: the operations team reads it; who may configure Percolate changes it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from core.errors import DomainError
from core.forms import show_domain_error
from core.permissions import Capability, may, require

from ..forms import SlaPolicyForm
from ..models import SlaPolicy
from ..services import sla_policy_update


@login_required
def sla_policy(request):
    require(request.user, Capability.READ_OPERATIONS)
    form = SlaPolicyForm(request.POST or None, instance=SlaPolicy.current())
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            sla_policy_update(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            show_domain_error(form, error)
            status = error.status_code
        else:
            messages.success(request, "SLA policy saved; it applies to deadlines set from now on.")
            return redirect("sla_policy")
    context = {"form": form, "can_edit": may(request.user, Capability.CONFIGURE)}
    return render(request, "escalations/sla_policy.html", context, status=status)

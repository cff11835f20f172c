"""Pages of the stacks, for archivists: rooms, boxes, labels, inventories, the eight protections.

The views parse the request and call one service or selector; errors of the services end as
messages on the page.
"""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dangan.catalogue.selectors import granted_categories, granted_fonds

from . import labels, selectors, services
from .forms import (
    AlertCloseForm,
    BoxForm,
    BoxNoteForm,
    InspectionForm,
    MoveForm,
    PlaceForm,
    ReadingForm,
    ReadingImportForm,
    RoomForm,
    ScanForm,
)
from .models import Alert, Box, Inventory, Room


def keeper_required(view):
    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.may_keep_stacks(request.user):
            raise PermissionDenied(_("The stacks are kept by archivists."))
        return view(request, *args, **kwargs)

    return wrapped


def _errors(request, exc: ValidationError):
    for message in exc.messages:
        messages.error(request, message)


@keeper_required
def room_list(request):
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            room = services.create_room(actor=request.user, **data)
        except ValidationError as exc:
            _errors(request, exc)
        else:
            return redirect("stacks:room-detail", room.pk)
    return render(
        request,
        "stacks/room_list.html",
        {
            "rooms": selectors.rooms(),
            "form": form,
            "unshelved": selectors.unshelved_boxes()[:200],
            "box_form": _box_form(request, None),
            "alerts": selectors.open_alerts()[:50],
        },
    )


def _box_form(request, data):
    return BoxForm(
        data,
        fonds=granted_fonds(request.user),
        categories=granted_categories(request.user),
    )


@keeper_required
def room_detail(request, pk):
    room = get_object_or_404(Room, pk=pk)
    return render(
        request,
        "stacks/room_detail.html",
        {
            "room": room,
            "boxes": selectors.room_boxes(room),
            "inventory": selectors.open_inventory(room),
            "inventories": room.inventories.all()[:10],
            "inspections": room.inspections.select_related("by")[:10],
            "alerts": room.alerts.all()[:20],
            "reading_form": ReadingForm(),
            "import_form": ReadingImportForm(),
            "series": selectors.readings_series(room),
        },
    )


@keeper_required
@require_POST
def box_create(request):
    form = _box_form(request, request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(
                request,
                f"{form.fields[field].label if field in form.fields else ''} {' '.join(errors)}",
            )
        return redirect(request.POST.get("next") or "stacks:room-list")
    data = dict(form.cleaned_data)
    location = data.pop("location")
    shelf = services.find_shelf(location) if location else None
    if location and shelf is None:
        messages.error(request, _("No such location: %(code)s") % {"code": location})
        return redirect("stacks:room-list")
    try:
        box = services.create_box(actor=request.user, shelf=shelf, **data)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("stacks:room-list")
    messages.success(request, _("Box %(code)s created.") % {"code": box.code})
    return redirect("stacks:box-detail", box.pk)


@keeper_required
def box_detail(request, pk):
    box = get_object_or_404(Box.objects.select_related("shelf__room", "fonds", "category"), pk=pk)
    note_form = BoxNoteForm(instance=box)
    place_form, move_form = PlaceForm(), MoveForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "note":
                note_form = BoxNoteForm(request.POST, instance=Box.objects.get(pk=box.pk))
                if note_form.is_valid():
                    services.update_box_note(actor=request.user, box=box, **note_form.cleaned_data)
                    messages.success(request, _("Box note saved."))
                    return redirect("stacks:box-detail", box.pk)
            elif action == "place":
                place_form = PlaceForm(request.POST)
                if place_form.is_valid():
                    n = services.place_by_codes(
                        actor=request.user, box=box, codes=place_form.code_list()
                    )
                    messages.success(request, _("%(n)d records placed in the box.") % {"n": n})
                    return redirect("stacks:box-detail", box.pk)
            elif action == "move":
                move_form = MoveForm(request.POST)
                if move_form.is_valid():
                    code = move_form.cleaned_data["location"]
                    shelf = services.find_shelf(code) if code else None
                    if code and shelf is None:
                        raise ValidationError(_("No such location: %(code)s") % {"code": code})
                    services.move_box(
                        actor=request.user,
                        box=box,
                        shelf=shelf,
                        reason=move_form.cleaned_data["reason"],
                    )
                    messages.success(request, _("Box moved."))
                    return redirect("stacks:box-detail", box.pk)
        except ValidationError as exc:
            _errors(request, exc)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
    records, total = selectors.box_records(request.user, box)
    return render(
        request,
        "stacks/box_detail.html",
        {
            "box": box,
            "records": records[:500],
            "total": total,
            "moves": box.moves.select_related("from_shelf__room", "to_shelf__room", "by"),
            "note_form": note_form,
            "place_form": place_form,
            "move_form": move_form,
        },
    )


@keeper_required
def box_labels(request, pk):
    box = get_object_or_404(Box.objects.select_related("shelf__room", "fonds", "category"), pk=pk)
    response = HttpResponse(labels.box_labels_pdf([box]), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="box-{box.pk}-labels.pdf"'
    return response


@keeper_required
@require_POST
def inventory_start(request, pk):
    room = get_object_or_404(Room, pk=pk)
    inventory = selectors.open_inventory(room) or services.start_inventory(
        actor=request.user, room=room
    )
    return redirect("stacks:inventory-detail", inventory.pk)


@keeper_required
def inventory_detail(request, pk):
    inventory = get_object_or_404(Inventory.objects.select_related("room"), pk=pk)
    form = ScanForm()
    if request.method == "POST":
        try:
            if request.POST.get("action") == "close":
                services.close_inventory(actor=request.user, inventory=inventory)
                messages.success(request, _("Inventory closed."))
            else:
                form = ScanForm(request.POST)
                if form.is_valid():
                    scan = services.scan_box(
                        actor=request.user, inventory=inventory, code=form.cleaned_data["code"]
                    )
                    if scan.box is None:
                        messages.error(request, _("%(code)s is no box.") % {"code": scan.code})
                    elif scan.code not in inventory.expected:
                        messages.warning(
                            request,
                            _("%(code)s does not belong in this room.") % {"code": scan.code},
                        )
                    else:
                        messages.success(request, _("%(code)s found.") % {"code": scan.code})
            return redirect("stacks:inventory-detail", inventory.pk)
        except ValidationError as exc:
            _errors(request, exc)
    report = selectors.discrepancies(inventory)
    return render(
        request,
        "stacks/inventory_detail.html",
        {"inventory": inventory, "form": form, "report": report},
    )


@keeper_required
def inspection_create(request, pk):
    room = get_object_or_404(Room, pk=pk)
    form = InspectionForm(request.POST or None, room=room)
    if request.method == "POST" and form.is_valid():
        services.record_inspection(
            actor=request.user,
            room=room,
            results=form.results(),
            remarks=form.cleaned_data["remarks"],
        )
        messages.success(request, _("Inspection recorded."))
        return redirect("stacks:room-detail", room.pk)
    return render(request, "stacks/inspection_form.html", {"room": room, "form": form})


@keeper_required
@require_POST
def reading_create(request, pk):
    room = get_object_or_404(Room, pk=pk)
    form = ReadingForm(request.POST)
    if form.is_valid():
        try:
            result = services.record_readings(
                actor=request.user,
                room=room,
                readings=[services.reading_in(**form.cleaned_data)],
                source="form",
            )
            _report_readings(request, result)
        except ValidationError as exc:
            _errors(request, exc)
    else:
        messages.error(request, _("Give a time and a temperature or a humidity."))
    return redirect("stacks:room-detail", room.pk)


@keeper_required
@require_POST
def reading_import(request, pk):
    room = get_object_or_404(Room, pk=pk)
    form = ReadingImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            result = services.import_readings_csv(
                actor=request.user, room=room, data=form.cleaned_data["file"].read()
            )
            _report_readings(request, result)
        except ValidationError as exc:
            _errors(request, exc)
    return redirect("stacks:room-detail", room.pk)


def _report_readings(request, result):
    messages.success(
        request,
        _("%(stored)d readings stored, %(skipped)d already known.")
        % {"stored": result["stored"], "skipped": result["skipped"]},
    )
    for alert in result["alerts"]:
        if alert.closed_at is None:
            messages.warning(request, _("Alert: %(alert)s") % {"alert": alert})


@keeper_required
@require_POST
def alert_close(request, pk):
    alert = get_object_or_404(Alert, pk=pk)
    form = AlertCloseForm(request.POST, instance=alert)
    if form.is_valid():
        try:
            services.close_alert(
                actor=request.user, alert=alert, handling=form.cleaned_data["handling"]
            )
            messages.success(request, _("Alert closed."))
        except ValidationError as exc:
            _errors(request, exc)
    else:
        messages.error(request, _("Say how the alert was handled."))
    return redirect("stacks:room-detail", alert.room_id)

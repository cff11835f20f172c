"""The API's payloads: how the catalogue and the persons look to other systems.

Serializers only shape and parse data. What a user may see comes from the selectors, and every
write goes through the catalogue's and the people's services; the checks a serializer runs
before a write (an ID number, the category's fields) are there so that errors name the exact
place in the payload, and the services check everything again.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from dangan.accounts.models import Unit
from dangan.catalogue.models import Category, FieldDefinition, Fonds, Record, RetentionRule
from dangan.catalogue.schema import clean_metadata
from dangan.catalogue.selectors import SORTS
from dangan.catalogue.services import CORE_FIELDS
from dangan.people.id_numbers import mask
from dangan.people.models import Person
from dangan.people.services import check_person

# --- The scheme: fonds and categories ---------------------------------------------------------


class FondsSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Fonds
        fields = ["id", "code", "name", "unit"]


class FieldDefinitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = FieldDefinition
        fields = ["key", "label", "kind", "required", "choices", "pattern", "max_length", "aliases"]


class RetentionRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = RetentionRule
        fields = ["record_type", "retention", "basis"]


class CategorySerializer(serializers.ModelSerializer):
    """A category with its metadata schema and its lines of the retention schedule."""

    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    metadata_fields = FieldDefinitionSerializer(
        source="fields",
        many=True,
        read_only=True,
        help_text=_("The category's metadata schema: the keys a record's metadata may hold."),
    )
    retention_rules = RetentionRuleSerializer(many=True, read_only=True)

    class Meta:
        model = Category
        fields = [
            "id",
            "code",
            "name",
            "parent",
            "class_code",
            "level",
            "default_retention",
            "code_template",
            "title_template",
            "description",
            "metadata_fields",
            "retention_rules",
        ]


# --- Persons ------------------------------------------------------------------------------------


class PersonSerializer(serializers.ModelSerializer):
    """A person with the full ID number: only in answers whose reading is audited."""

    class Meta:
        model = Person
        fields = ["id", "id_number", "name", "sex", "birth_date"]


class PersonListItemSerializer(serializers.ModelSerializer):
    """A person in a list: lists are not audited per person, so the ID number is masked."""

    id_number = serializers.SerializerMethodField(
        help_text=_("Masked: region and last four digits. The full number is in the detail.")
    )

    class Meta:
        model = Person
        fields = ["id", "id_number", "name", "sex"]

    def get_id_number(self, person) -> str:
        return mask(person.id_number)


class PersonEntrySerializer(serializers.Serializer):
    """A person a new record concerns, as the source gives them; checked, not yet on file."""

    id_number = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=50)

    def validate(self, attrs):
        try:
            checked, name = check_person(id_number=attrs["id_number"], name=attrs["name"])
        except DjangoValidationError as exc:
            place = "name" if exc.code == "name_missing" else "id_number"
            raise serializers.ValidationError({place: get_error_detail(exc)}) from None
        return {"checked": checked, "name": name}


# --- Records ------------------------------------------------------------------------------------

#: The record as the API shows it: identity and state, the fields a clerk sets (the catalogue's
#: own list, so the two cannot drift apart), then metadata, persons and times.
RECORD_FIELDS = [
    "id",
    "fonds",
    "category",
    "state",
    "archival_code",
    *CORE_FIELDS,
    "metadata",
    "persons",
    "created_at",
    "updated_at",
]


class RelationSerializer(serializers.Serializer):
    """One relation of a record (``catalogue.relations.relations_of``)."""

    kind = serializers.ChoiceField(choices=["reply", "attachment", "supersedes", "see_also"])
    direction = serializers.ChoiceField(
        choices=["out", "in"],
        help_text=_("out: this record points to the other; in: the other points to this one."),
    )
    code = serializers.CharField(allow_null=True, help_text=_("The other record's archival code."))
    id = serializers.IntegerField(help_text=_("The other record's id."))


class RecordSerializer(serializers.ModelSerializer):
    """A record as read in full (its reading audited), with the persons it concerns, its volume
    and its relations to records the reader may see (given by the view in the context,
    ``relations``)."""

    fonds = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    metadata = serializers.DictField(read_only=True, help_text=_("The category's own fields."))
    persons = PersonSerializer(many=True, read_only=True)
    volume = serializers.SlugRelatedField(
        slug_field="archival_code",
        read_only=True,
        allow_null=True,
        help_text=_("The archival code of the volume this item is in."),
    )
    relations = serializers.SerializerMethodField()

    class Meta:
        model = Record
        fields = [*RECORD_FIELDS, "volume", "relations"]
        read_only_fields = fields

    @extend_schema_field(RelationSerializer(many=True))
    def get_relations(self, record) -> list:
        return self.context.get("relations", [])


class RecordListItemSerializer(RecordSerializer):
    """A record in a list: the persons' ID numbers masked (see ``PersonListItemSerializer``)."""

    persons = PersonListItemSerializer(many=True, read_only=True)

    class Meta(RecordSerializer.Meta):
        fields = RECORD_FIELDS
        read_only_fields = RECORD_FIELDS


class RecordWriteSerializer(serializers.ModelSerializer):
    """The fields a clerk sets on a record (``CORE_FIELDS``), its metadata and its persons."""

    unit = serializers.SlugRelatedField(
        slug_field="code", queryset=Unit.objects.all(), required=False, allow_null=True
    )
    metadata = serializers.DictField(
        required=False, help_text=_("Values of the category's fields, by key.")
    )
    persons = PersonEntrySerializer(
        many=True,
        required=False,
        help_text=_("The persons the record concerns. On a change the list replaces the old one."),
    )

    class Meta:
        model = Record
        fields = [*CORE_FIELDS, "metadata", "persons"]
        extra_kwargs = {
            "year": {"required": False, "help_text": _("Taken from the date when left out.")},
            "retention": {
                "required": False,
                "help_text": _("The category's default retention when left out."),
            },
        }

    def validate(self, attrs):
        if "metadata" in attrs:
            category = attrs["category"] if "category" in attrs else self.instance.category
            fields = list(category.fields.all())
            try:
                clean_metadata(fields, attrs["metadata"], partial=self.instance is not None)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"metadata": get_error_detail(exc)}) from None
        return attrs


class RecordCreateSerializer(RecordWriteSerializer):
    fonds = serializers.SlugRelatedField(slug_field="code", queryset=Fonds.objects.all())
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.all())
    file = serializers.BooleanField(
        default=True,
        help_text=_("File the record at once (it gets its archival code), or keep a draft."),
    )

    class Meta(RecordWriteSerializer.Meta):
        fields = ["fonds", "category", "file", *RecordWriteSerializer.Meta.fields]


# --- Query parameters ---------------------------------------------------------------------------


class RecordFilterSerializer(serializers.Serializer):
    """The filters of the record list, as ``browse_records`` takes them."""

    fonds = serializers.SlugRelatedField(
        slug_field="code", queryset=Fonds.objects.all(), required=False, help_text=_("Fonds number")
    )
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.all(),
        required=False,
        help_text=_("Category code"),
    )
    year = serializers.IntegerField(required=False, min_value=1, max_value=9999)
    retention = serializers.ChoiceField(
        choices=Record._meta.get_field("retention").choices, required=False
    )
    openness = serializers.ChoiceField(
        choices=Record._meta.get_field("openness").choices, required=False
    )
    state = serializers.ChoiceField(choices=Record.State.choices, required=False)
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text=_(
            "Archival code or legacy number, ID number or its last digits, a person's "
            "name, or words of the title."
        ),
    )
    ordering = serializers.ChoiceField(choices=list(SORTS), required=False)

    def browse_arguments(self) -> dict:
        data = dict(self.validated_data)
        if "fonds" in data:
            data["fonds"] = data["fonds"].pk
        if "category" in data:
            data["category"] = data["category"].pk
        if "ordering" in data:
            data["sort"] = data.pop("ordering")
        return data


class PersonFilterSerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        max_length=50,
        help_text=_("A name (simplified or traditional), a whole ID number or its last digits."),
    )


class RecordSummarySerializer(serializers.ModelSerializer):
    """A record in a person's file."""

    fonds = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Record
        fields = ["id", "fonds", "category", "state", "archival_code", "year", "title", "date"]


class PersonFileSerializer(PersonSerializer):
    """A person and the records about them that the reader may see (一人一档)."""

    # Not ``Person.records``: that would be every record, also those the reader may not see.
    records = RecordSummarySerializer(source="visible_records", many=True, read_only=True)

    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "records"]

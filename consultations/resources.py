"""What the admin's client export (CSV, Excel) contains: django-import-export resources."""

from import_export import fields

from clinic.exports import FormulaSafeResource
from consultations.models import Client


class ClientExport(FormulaSafeResource):
    skin_type = fields.Field(attribute="skin_type", column_name="Fitzpatrick skin type")

    class Meta:
        model = Client
        fields = (
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "skin_type",
            "archived",
            "do_not_contact",
            "notes",
            "created_at",
            "updated_at",
        )
        export_order = fields

"""FHIR R4B: Patient/<id>/$everything, a searchset Bundle of the client's record."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.fhir import everything_bundle
from api.views import ONE_ERRORS
from consultations.models import Client, ClientAccess

RECORD_PERMISSIONS = [
    "consultations.view_client",
    "consultations.view_consultation",
    "treatments.view_course",
    "treatments.view_treatmentsession",
]


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


class ReadsWholeRecords(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) and request.user.has_perms(
            RECORD_PERMISSIONS
        )


class PatientEverythingView(APIView):
    permission_classes = [ReadsWholeRecords]
    renderer_classes = [JSONRenderer, FhirJSONRenderer]

    @extend_schema(
        operation_id="fhir_patient_everything",
        summary="The client's whole record as a FHIR R4B Bundle",
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, "A searchset Bundle."),
            (200, "application/fhir+json"): OpenApiResponse(OpenApiTypes.OBJECT),
            **ONE_ERRORS,
        },
    )
    def get(self, request, pk):
        client = get_object_or_404(Client, pk=pk)
        bundle = everything_bundle(client, base=request.build_absolute_uri("/api/fhir/"))
        ClientAccess.record(
            user=request.user, client=client, via=ClientAccess.Via.API, what="FHIR $everything"
        )
        return Response(bundle)

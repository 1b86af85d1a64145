"""Filters for the API's lists (django-filter): bad values answer 400 with the field's message."""

import django_filters as filters
from django.contrib.auth import get_user_model

from consultations.models import Client, Consultation
from treatments.models import Course, TreatmentSession


def staff():
    return get_user_model().objects.all()


class ClientFilter(filters.FilterSet):
    q = filters.CharFilter(
        method="search", max_length=100, help_text="Words in name, email, phone."
    )
    archived = filters.BooleanFilter()

    class Meta:
        model = Client
        fields = ["q", "archived"]

    def search(self, queryset, name, value):
        return queryset.search(value)


class ConsultationFilter(filters.FilterSet):
    client = filters.ModelChoiceFilter(queryset=Client.objects.all())
    practitioner = filters.ModelChoiceFilter(queryset=staff())
    held_on = filters.DateFromToRangeFilter()
    outcome = filters.ChoiceFilter(choices=Consultation.Outcome.choices)
    voided = filters.BooleanFilter(field_name="voided_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Consultation
        fields = ["client", "practitioner", "held_on", "outcome", "voided"]


class CourseFilter(filters.FilterSet):
    client = filters.ModelChoiceFilter(queryset=Client.objects.all())
    practitioner = filters.ModelChoiceFilter(queryset=staff())
    status = filters.ChoiceFilter(choices=Course.Status.choices)
    start_date = filters.DateFromToRangeFilter()
    next_due_on = filters.DateFromToRangeFilter()

    class Meta:
        model = Course
        fields = ["client", "practitioner", "status", "start_date", "next_due_on"]


class SessionFilter(filters.FilterSet):
    client = filters.ModelChoiceFilter(field_name="course__client", queryset=Client.objects.all())
    course = filters.ModelChoiceFilter(queryset=Course.objects.all())
    practitioner = filters.ModelChoiceFilter(queryset=staff())
    performed_on = filters.DateFromToRangeFilter()
    voided = filters.BooleanFilter(field_name="voided_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = TreatmentSession
        fields = ["client", "course", "practitioner", "performed_on", "voided"]

"""The clinic's details for every page's layout (the brand), read only by a page that shows them."""

from catalogue.models import ClinicDetails


def clinic_details(request):
    # The method itself: a template calls it on first use, so a page without the brand reads
    # nothing, and the cache spares the query on every other page.
    return {"clinic_details": ClinicDetails.current}

"""`{% submission_key form %}`: a create form's hidden one-time key (clinic.submissions)."""

from django import template

from clinic.submissions import FIELD_NAME, new_key, posted_key

register = template.Library()


@register.inclusion_tag("includes/submission_key.html")
def submission_key(form=None):
    """The key `form` was posted with when it comes back refused (nothing was saved with it), a
    new one when the page is first shown. Without `form`: a new one."""
    key = posted_key(form.data) if form is not None and form.is_bound else None
    return {"name": FIELD_NAME, "key": key or new_key()}

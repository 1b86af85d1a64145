"""What every app's forms share."""


def add_service_errors(form, error, *, elsewhere=None):
    """Attach a service's ValidationError to `form` (and to `elsewhere` for other fields).

    Messages about a field of `form` go next to that field; messages keyed by a name in
    `elsewhere` (a dict of name -> callable taking the messages) go there; the rest appear at
    the top of the form.
    """
    elsewhere = elsewhere or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, errors in error.error_dict.items():
        messages = [message for e in errors for message in e.messages]
        if name in form.fields:
            form.add_error(name, messages)
        elif name in elsewhere:
            elsewhere[name](messages)
        else:
            form.add_error(None, messages)

"""drf-spectacular hooks."""


def fhir_operation_paths(result, generator, request, public):
    """Keep FHIR's `$` in operation paths: the schema generator reads `$` in a route as the
    end of a regular expression and drops it."""
    result["paths"] = {
        path.replace("/{id}/everything", "/{id}/$everything"): item
        for path, item in result["paths"].items()
    }
    return result

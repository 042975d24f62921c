"""The voice descriptor, as an OpenAPI schema (the catalog is an object keyed by provider, which a
marshmallow schema with fixed fields cannot describe)."""

VOICE = {
    "type": "object",
    "required": ["id", "sample", "name", "accent", "gender", "language"],
    "properties": {
        "id": {"type": "string", "example": "gmw/en-US"},
        "sample": {"type": "string", "description": "URL of a sample, or empty", "example": ""},
        "name": {"type": "string", "example": "English (America)"},
        "accent": {"type": "string", "example": "America"},
        "gender": {"type": "string", "example": "Male"},
        "language": {"type": "string", "example": "en-us"},
        "languages": {"type": "array", "items": {"type": "string"}, "example": ["en-us", "en"]},
        "sample_rates": {"type": "array", "items": {"type": "integer"}, "example": [22050]},
        "tags": {"type": "array", "items": {"type": "string"}, "example": ["calm"]},
    },
}
CATALOG = {"type": "object", "additionalProperties": {"type": "array", "items": VOICE}}

"""Human-readable language and accent names for BCP-47 locale codes (`en-US` → English, American), with
upstream's tables, so Google, Azure and Cartesia voices read alike in `GET /voices`."""

from __future__ import annotations

_LANGUAGES = {
    "af": "Afrikaans",
    "am": "Amharic",
    "ar": "Arabic",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "ca": "Catalan",
    "cmn": "Chinese",
    "zh": "Chinese",
    "cs": "Czech",
    "cy": "Welsh",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fil": "Filipino",
    "fr": "French",
    "ga": "Irish",
    "gl": "Galician",
    "gu": "Gujarati",
    "he": "Hebrew",
    "iw": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "is": "Icelandic",
    "it": "Italian",
    "ja": "Japanese",
    "jv": "Javanese",
    "kn": "Kannada",
    "ko": "Korean",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "ml": "Malayalam",
    "mr": "Marathi",
    "ms": "Malay",
    "nb": "Norwegian Bokmål",
    "nl": "Dutch",
    "pa": "Punjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sr": "Serbian",
    "su": "Sundanese",
    "sv": "Swedish",
    "sw": "Swahili",
    "ta": "Tamil",
    "te": "Telugu",
    "th": "Thai",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "yue": "Cantonese",
}
_ACCENTS = {
    "US": "American",
    "GB": "British",
    "AU": "Australian",
    "IN": "Indian",
    "CA": "Canadian",
    "IE": "Irish",
    "NZ": "New Zealand",
    "ZA": "South African",
    "ES": "Spain",
    "MX": "Mexican",
    "AR": "Argentinian",
    "CL": "Chilean",
    "CO": "Colombian",
    "PE": "Peruvian",
    "VE": "Venezuelan",
    "BR": "Brazilian",
    "PT": "Portuguese",
    "FR": "French",
    "BE": "Belgian",
    "CH": "Swiss",
    "DE": "German",
    "AT": "Austrian",
    "IT": "Italian",
    "CN": "Mainland China",
    "TW": "Taiwanese",
    "HK": "Hong Kong",
    "JP": "Japanese",
    "KR": "Korean",
    "RU": "Russian",
    "UA": "Ukrainian",
    "PL": "Polish",
    "NL": "Dutch",
    "SE": "Swedish",
    "NO": "Norwegian",
    "DK": "Danish",
    "FI": "Finnish",
    "TR": "Turkish",
    "SA": "Saudi",
    "EG": "Egyptian",
    "IL": "Israeli",
    "PH": "Filipino",
    "ID": "Indonesian",
    "MY": "Malaysian",
    "TH": "Thai",
    "VN": "Vietnamese",
}


def language_name(code: str) -> str:
    """`en-US` → English; an unknown language is passed through."""
    primary = code.split("-")[0]
    return _LANGUAGES.get(primary.lower(), primary)


def accent_name(code: str) -> str:
    """`en-US` → American; an unknown region is passed through; no region → Standard."""
    parts = code.split("-")
    if len(parts) < 2 or not parts[1]:
        return "Standard"
    return _ACCENTS.get(parts[1].upper(), parts[1])


def locale_of_voice(voice_name: str, default: str = "en-US") -> str:
    """`en-US-Wavenet-D` → en-US (Google and Azure voice names start with their locale)."""
    parts = voice_name.split("-")
    if len(parts) >= 2 and parts[0].isalpha() and 2 <= len(parts[0]) <= 3 and parts[1].isalpha() and parts[1]:
        return f"{parts[0]}-{parts[1]}"
    return default

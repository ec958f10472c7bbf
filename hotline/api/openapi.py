"""The OpenAPI 3.0 document of the JSON API, built from the same code lists the validation
uses (``routing.codes``), so the document and the behaviour cannot drift apart on codes."""

from __future__ import annotations

import csv
from functools import cache
from typing import Any

from routing.codes import (
    AGE_BANDS,
    CHANNELS,
    CONTEXTS,
    REFERRAL_STATUSES,
    RISKS,
    SAFE_CHANNELS,
    SERVICES,
    SEXES,
    VIOLENCE_TYPES,
)
from routing.places import COMMUNE_CODE_ALIASES, DATA_DIR


def _enum(values: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def _list(values: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "array", "items": _enum(values)}


_NULLABLE_STRING = {"type": "string", "nullable": True}
_HOURS = "^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"


@cache
def _codes(kind: str) -> list[str]:
    """Every code the API accepts: 2025 and pre-2025 communes, or pre-2025 districts."""
    files = (
        ("communes-2025.csv", "communes-2024.csv")
        if kind == "communes"
        else ("districts-2024.csv",)
    )
    codes: set[str] = set(COMMUNE_CODE_ALIASES) if kind == "communes" else set()
    for name in files:
        with (DATA_DIR / name).open(encoding="utf-8", newline="") as f:
            codes.update(row["code"] for row in csv.DictReader(f))
    return sorted(codes)


def _only(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: schema},
        "required": [name],
        "additionalProperties": False,
    }


_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
    "required": ["error", "status"],
}
_FIELD_ERRORS = {
    "type": "object",
    "properties": {
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }
    },
    "required": ["errors"],
}
_POINT = {
    "type": "object",
    "nullable": True,
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "phone": _NULLABLE_STRING,
    },
    "required": ["code", "name", "phone"],
}
_REFERRAL = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "case_reference": {"type": "string"},
        "service_point": {"$ref": "#/components/schemas/ServicePoint"},
        "status": _enum(REFERRAL_STATUSES),
        "urgency": _enum(RISKS),
        "created_at": {"type": "string", "format": "date-time"},
        "acknowledged_at": {"type": "string", "format": "date-time", "nullable": True},
    },
    "required": [
        "id",
        "case_reference",
        "service_point",
        "status",
        "urgency",
        "created_at",
        "acknowledged_at",
    ],
}
_CASE_INPUT = {
    "type": "object",
    "required": ["channel", "area", "risk"],
    "properties": {
        "channel": _enum(CHANNELS),
        "contact_sid": {"type": "string", "maxLength": 64},
        "area": {
            "description": "Exactly one of commune_code (2025 or pre-2025 GSO code), "
            "district_code (pre-2025) or text (the caller's words, resolved by routing).",
            "oneOf": [
                _only("commune_code", {"type": "string", "enum": _codes("communes")}),
                _only("district_code", {"type": "string", "enum": _codes("districts")}),
                _only("text", {"type": "string", "minLength": 1, "maxLength": 200}),
            ],
        },
        "survivor": {
            "type": "object",
            "properties": {"sex": _enum(SEXES), "age_band": _enum(AGE_BANDS)},
        },
        "violence_types": _list(VIOLENCE_TYPES),
        "contexts": _list(CONTEXTS),
        "perpetrator": {
            "type": "object",
            "properties": {
                "relationship": {"type": "string", "maxLength": 40},
                "sex": _enum(SEXES),
                "age_band": _enum(AGE_BANDS),
            },
        },
        "risk": _enum(RISKS),
        "needs": _list(SERVICES),
        "consent": {
            "type": "object",
            "properties": {
                "referral": {"type": "boolean"},
                "follow_up": {"type": "boolean"},
                "reporting": {"type": "boolean"},
            },
        },
        "safe_contact": {
            "description": "phone and hours are required unless channel is none.",
            "oneOf": [
                {
                    "type": "object",
                    "properties": {"channel": {"type": "string", "enum": ["none"]}},
                    "required": ["channel"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {
                        "channel": _enum(tuple(c for c in SAFE_CHANNELS if c != "none")),
                        "phone": {"type": "string", "pattern": "^0[35789][0-9]{8}$"},
                        "hours": {"type": "string", "pattern": _HOURS},
                    },
                    "required": ["channel", "phone", "hours"],
                    "additionalProperties": False,
                },
            ],
        },
        "notes": {"type": "string", "maxLength": 10000},
    },
}
_ROUTING = {
    "type": "object",
    "properties": {
        "service_point": {"$ref": "#/components/schemas/ServicePoint"},
        "reason": {"type": "string"},
        "alternates": {"type": "array", "items": {"$ref": "#/components/schemas/ServicePoint"}},
        "police": {"$ref": "#/components/schemas/ServicePoint"},
        "instructions": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["service_point", "reason", "alternates"],
}
_CASE = {
    "type": "object",
    "description": (
        "Operators see every field; a social worker sees only reference, status, "
        "created_at, area, risk, needs, survivor, routing, safe_contact (without phone) "
        "and the referrals to their own service points."
    ),
    "properties": {
        "reference": {"type": "string"},
        "status": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "area": {
            "type": "object",
            "properties": {
                "commune_code": _NULLABLE_STRING,
                "district_code": _NULLABLE_STRING,
                "label": {"type": "string"},
            },
        },
        "risk": _enum(RISKS),
        "needs": _list(SERVICES),
        "survivor": {"type": "object"},
        "routing": {"$ref": "#/components/schemas/Routing"},
        "safe_contact": {"type": "object"},
        "referrals": {"type": "array", "items": {"$ref": "#/components/schemas/Referral"}},
        "channel": _enum(CHANNELS),
        "violence_types": _list(VIOLENCE_TYPES),
        "contexts": _list(CONTEXTS),
        "perpetrator": {"type": "object"},
        "consent": {"type": "object"},
        "notes": _NULLABLE_STRING,
        "legal_hold": {"type": "boolean"},
        "purged": {"type": "boolean"},
    },
    "required": ["reference", "status", "area", "risk", "needs", "routing", "safe_contact"],
}


def _json(schema_ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}
        },
    }


_UNAUTHORISED = _json("Error", "No valid bearer token.")
_FORBIDDEN = _json("Error", "The token's role cannot use this operation.")
_NOT_FOUND = _json("Error", "No such item in the caller's scope.")
_UNPROCESSABLE = _json("FieldErrors", "The body cannot be accepted; messages per field.")
_REFERRAL_ID = {
    "name": "referral_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Hotline 18001769 API",
            "version": "1",
            "description": (
                "Intake and referrals of Quảng Ninh's GBV hotline. Tokens come from "
                "`flask --app app users token USERNAME`; each token acts with its user's role. "
                "Texts (reason, errors) are Vietnamese unless `?lang=en`."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": _ERROR,
                "FieldErrors": _FIELD_ERRORS,
                "ServicePoint": _POINT,
                "Referral": _REFERRAL,
                "CaseInput": _CASE_INPUT,
                "Routing": _ROUTING,
                "Case": _CASE,
            },
        },
        "paths": {
            "/api/v1/cases": {
                "post": {
                    "operationId": "createCase",
                    "summary": "Record an intake; route it and alert the chosen service point.",
                    "description": "Operators only.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/CaseInput"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Created and routed.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "reference": {"type": "string"},
                                            "status": {"type": "string"},
                                            "routing": {"$ref": "#/components/schemas/Routing"},
                                        },
                                        "required": ["reference", "routing"],
                                    }
                                }
                            },
                        },
                        "401": _UNAUTHORISED,
                        "403": _FORBIDDEN,
                        "422": _UNPROCESSABLE,
                    },
                }
            },
            "/api/v1/cases/{reference}": {
                "get": {
                    "operationId": "getCase",
                    "summary": "One case, as the caller's role may see it.",
                    "parameters": [
                        {
                            "name": "reference",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _json("Case", "The case."),
                        "401": _UNAUTHORISED,
                        "404": _NOT_FOUND,
                    },
                }
            },
            "/api/v1/referrals": {
                "get": {
                    "operationId": "listReferrals",
                    "summary": "Referrals to the social worker's own service points.",
                    "responses": {
                        "200": {
                            "description": "Newest first.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "items": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Referral"},
                                            }
                                        },
                                        "required": ["items"],
                                    }
                                }
                            },
                        },
                        "401": _UNAUTHORISED,
                        "403": _FORBIDDEN,
                    },
                }
            },
            "/api/v1/referrals/{referral_id}/acknowledge": {
                "post": {
                    "operationId": "acknowledgeReferral",
                    "summary": "Acknowledge a referral; the first acknowledgement wins.",
                    "parameters": [_REFERRAL_ID],
                    "responses": {
                        "200": _json("Referral", "Acknowledged (first: whether this call was)."),
                        "401": _UNAUTHORISED,
                        "403": _FORBIDDEN,
                        "404": _NOT_FOUND,
                    },
                }
            },
            "/api/v1/referrals/{referral_id}/outcome": {
                "post": {
                    "operationId": "recordOutcome",
                    "summary": "Record which services the survivor received.",
                    "parameters": [_REFERRAL_ID],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["services_received"],
                                    "properties": {
                                        "services_received": _list(SERVICES),
                                        "notes": {"type": "string", "maxLength": 10000},
                                        "perpetrator": {
                                            "type": "object",
                                            "description": "Stored on the referral's case "
                                            "(indicator PERPETRATOR_COUNSELLING); a key "
                                            "left out keeps its recorded value.",
                                            "properties": {
                                                "prosecuted": {"type": "boolean"},
                                                "counselled": {"type": "boolean"},
                                            },
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json("Referral", "Recorded; the referral is closed."),
                        "401": _UNAUTHORISED,
                        "403": _FORBIDDEN,
                        "404": _NOT_FOUND,
                        "422": _UNPROCESSABLE,
                    },
                }
            },
            "/api/v1/stats": {
                "get": {
                    "operationId": "getStats",
                    "summary": "Anonymised counts, indicators and hotline metrics (managers).",
                    "description": (
                        "The body is the json reporting payload of DESIGN.md section 9: counts "
                        "of cases with reporting consent; every count from 1 to 4 is null with "
                        "suppressed true, with complementary suppression."
                    ),
                    "parameters": [
                        {
                            "name": "period",
                            "in": "query",
                            "required": True,
                            "schema": {
                                "type": "string",
                                "pattern": r"^\d{4}(-(0[1-9]|1[0-2]|S1|S2))?$",
                            },
                        },
                        {
                            "name": "district_code",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "pattern": r"^\d{3}$"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The anonymised report.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": [
                                            "source",
                                            "period",
                                            "generated_at",
                                            "cells",
                                            "indicators",
                                        ],
                                        "properties": {
                                            "source": {"type": "string"},
                                            "period": {"type": "string"},
                                            "generated_at": {"type": "string"},
                                            "cells": {"type": "array"},
                                            "indicators": {"type": "array"},
                                        },
                                    }
                                }
                            },
                        },
                        "401": _UNAUTHORISED,
                        "403": _FORBIDDEN,
                        "422": _UNPROCESSABLE,
                    },
                }
            },
        },
    }

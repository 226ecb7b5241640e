//! The document's `webhooks` section (OpenAPI 3.1): one entry per event type of
//! `vouch_app::resources::EVENT_TYPES`, each a `POST` whose body is the signed envelope with
//! that type's `data`, so a generated client can type its webhook handler too.

use serde_json::{Value, json};
use utoipa::PartialSchema;
use vouch_app::resources::{EVENT_TYPES, TestEvent, Unsubscribed};

pub fn add(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    schemas["Unsubscribed"] = to_value(Unsubscribed::schema());
    schemas["TestEvent"] = to_value(TestEvent::schema());
    schemas["WebhookEvent"] = json!({
        "type": "object",
        "description": "What Vouch POSTs to a webhook endpoint, signed as Standard Webhooks v1 describes (headers `webhook-id`, `webhook-timestamp`, `webhook-signature`; see docs/WEBHOOKS.md). `data` is the resource after the change, as the API returns it.",
        "required": ["id", "type", "created_at", "data"],
        "properties": {
            "id": { "type": "string", "description": "The event id (`evt_…`)." },
            "type": { "type": "string", "description": "The event type." },
            "created_at": { "$ref": "#/components/schemas/Timestamp" },
            "data": { "type": "object" }
        }
    });
    let mut hooks = serde_json::Map::new();
    for e in EVENT_TYPES {
        hooks.insert(
            e.name.to_string(),
            json!({
                "post": {
                    "operationId": format!("webhook_{}", e.name.replace('.', "_")),
                    "summary": e.name,
                    "description": e.when,
                    "tags": ["webhooks"],
                    "requestBody": {
                        "required": true,
                        "content": { "application/json": { "schema": {
                            "allOf": [
                                { "$ref": "#/components/schemas/WebhookEvent" },
                                { "type": "object", "properties": {
                                    "type": { "const": e.name },
                                    "data": { "$ref": format!("#/components/schemas/{}", e.data) }
                                } }
                            ]
                        } } }
                    },
                    "responses": {
                        "2XX": { "description": "Received. Any 2xx acknowledges the delivery." },
                        "410": { "description": "Gone: Vouch turns the endpoint off and tells its admins." },
                        "default": { "description": "Anything else (or no answer within the timeout) is retried with backoff." }
                    }
                }
            }),
        );
    }
    doc["webhooks"] = Value::Object(hooks);
}

fn to_value(schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) -> Value {
    serde_json::to_value(schema).unwrap_or_default()
}

"""The local stack: template-derived resources on moto, API Gateway events, signing helpers."""

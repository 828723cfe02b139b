"""Built-in node types: one module per type, each registering its class with `@register`.
Modules are found, not listed: `nodes.plugins.load_node_types` imports them all at start-up."""

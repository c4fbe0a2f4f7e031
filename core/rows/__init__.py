"""The general row model: a dataset is a list of columns (core.rows.columns); the schema, the
validation, the dedupe text, the export layout and the card's figures derive from it
(core.rows.model, core.rows.card); task types are presets of it (core.rows.presets)."""

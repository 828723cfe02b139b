"""AI data a run's nodes keep in the database: conversation memory (memory.py) and the vector
store (vectors.py), both scoped to a project. Nodes reach them through `ctx.memory` and
`ctx.vectors` (runs/engine/context.py); nothing here imports the engine."""

-- Health: each orchestrator stores what it last found about itself (database reachable, push
-- listening or degraded to a sweep, the table-change consumer's mode) when that changes, so
-- `pgconductor status` shows it from another process. Written by the orchestrator, read only.
alter table pgconductor.orchestrators add column health jsonb;

import { migrate } from "../db/migrator";
import { withDatabase, type Command } from "./command";

export const migrateCommand: Command = {
  name: "migrate",
  summary: "Install the pgconductor schema or bring it up to date (safe to run from many places at once).",
  usage: "",
  options: {},
  positionals: [0, 0],
  async run(args, io) {
    const outcome = await withDatabase(args, io, (sql) => migrate(sql));
    io.out(
      outcome.applied.length === 0
        ? `schema is up to date (version ${outcome.version})`
        : `applied ${outcome.applied.map((v) => String(v).padStart(3, "0")).join(", ")}; schema version ${outcome.version}`,
    );
    return 0;
  },
};

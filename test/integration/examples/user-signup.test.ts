import { startUserSignup, type WelcomeEmail } from "../../../examples/user-signup";
import { useTestDatabase } from "../../support/database";
import { eventually } from "../../support/helpers";
import { silentLogger } from "../../../src/model/logger";

const db = useTestDatabase();

test("the user-signup example sends one welcome email per opted-in user inserted", async () => {
  const sent: WelcomeEmail[] = [];
  const signup = await startUserSignup(db.url, (email) => void sent.push(email), silentLogger);
  try {
    await db.sql`
      insert into public.users (email, name, marketing_opt_in) values
        ('ada@example.com', 'Ada', true), ('bob@example.com', 'Bob', false)`;
    await db.sql`insert into public.users (email, name, marketing_opt_in) values ('cy@example.com', 'Cy', true)`;
    await eventually(() => sent.length >= 2, { what: "two welcome emails" });
    await eventually(async () => {
      const [row] = await db.sql`select count(*)::int as n from pgconductor.executions where task_key = 'send-welcome-email' and status = 'completed'`;
      return row.n === 2;
    }, { what: "both executions to complete" });
    expect(sent.map((email) => [email.name, email.to]).sort()).toEqual([
      ["Ada", "ada@example.com"],
      ["Cy", "cy@example.com"],
    ]);
    expect(typeof sent[0].userId).toBe("number");
  } finally {
    await signup.stop();
  }
});

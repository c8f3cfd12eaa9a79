// A small app on the client openapi-typescript generates (default settings, no casts):
// it records an acceptance with free-form context and reads the user's status.
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const [baseUrl, key, user] = process.argv.slice(2);
const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });

const accepted = await client.POST("/v1/acceptances", {
  body: {
    user_id: user,
    policy: "privacy",
    version: 1,
    context: { screen: "signup", experiment: { arm: "b" } },
  },
  params: { header: { "Idempotency-Key": `ts-${user}` } },
});
if (accepted.error !== undefined) throw new Error(`acceptance refused: ${accepted.error.detail}`);
const status = await client.GET("/v1/users/{user_id}/status", {
  params: { path: { user_id: user }, query: { policy: "privacy" } },
});
if (status.error !== undefined) throw new Error(`status refused: ${status.error.detail}`);
const privacy = status.data.policies.find((p) => p.policy === "privacy");
console.log(
  JSON.stringify({
    created: accepted.data.created,
    recorded: accepted.data.event.context,
    state: privacy?.state,
    accepted_version: privacy?.accepted_version,
  }),
);

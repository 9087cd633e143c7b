import type { ApplicationFunction } from "probot";
import { checkConfigOnPush } from "../config/check-config-on-push.ts";

/** The Probot app: routes GitHub events to the module that owns them, and nothing else. */
export const gantryApp: ApplicationFunction = (app) => {
  app.on("push", checkConfigOnPush);
};

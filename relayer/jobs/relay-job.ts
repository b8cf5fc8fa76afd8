import { z } from "zod";

import { relayRequestSchema } from "./relay-request.ts";

/** The payload of one BullMQ relay job; validated again by the worker before it acts. */
export const relayJobSchema = z.object({
  relayId: z.string().regex(/^relay-[A-Za-z0-9_.-]{1,200}$/),
  request: relayRequestSchema,
  /** ISO time after which the relay is cancelled (status `expired`) rather than sent. */
  deadline: z.iso.datetime().optional(),
  /** Who asked (user id, API key id); recorded, never trusted for authorisation. */
  requestedBy: z.string().min(1).max(200),
  /** Set when the relayer put the job back itself (its block left the chain, its job was lost): follow what is recorded. */
  resumed: z.boolean().optional(),
});

export type RelayJob = z.output<typeof relayJobSchema>;
export type RelayJobInput = z.input<typeof relayJobSchema>;

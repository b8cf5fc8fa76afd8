// Ponder 0.16 requires an API file; the benchmark reads only Ponder's own /ready and /status routes.
import { Hono } from "hono";

export default new Hono();

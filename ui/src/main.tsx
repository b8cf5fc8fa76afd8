/**
 * The Stablerail wallet web app: one page application served by the API on its own origin. The
 * shell (this, the router, the session, the sign-in page) loads first; every other page is a chunk
 * of its own, and viem only with the self-custody flows.
 */
import { render } from "preact";

import { App } from "./app.tsx";
import "./styles.css";

render(<App />, document.getElementById("app")!);

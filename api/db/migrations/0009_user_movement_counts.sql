-- How many of each user's movements are the risk engine's history (api/db/security-schema.ts).
CREATE TABLE "user_movement_counts" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"movements" bigint NOT NULL
);
--> statement-breakpoint
-- Whether a movement of this status is history: every status but the refused ones (api/risk/
-- assess-movement.ts refusedStatuses), named here once for the triggers and the count below.
CREATE FUNCTION "movement_is_history"(status text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT status NOT IN ('denied', 'declined', 'rejected')
$$;
--> statement-breakpoint
-- Keeps user_movement_counts equal to each user's movements that are history. search_path is the
-- migration's, so the count is kept in the schema of the movement, whatever the writing session's path.
CREATE FUNCTION "count_user_movements"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  counted_before boolean := TG_OP <> 'INSERT' AND "movement_is_history"(OLD.status);
  counted_after boolean := TG_OP <> 'DELETE' AND "movement_is_history"(NEW.status);
BEGIN
  IF counted_before THEN
    UPDATE "user_movement_counts" SET "movements" = "movements" - 1 WHERE "user_id" = OLD.user_id;
  END IF;
  IF counted_after THEN
    INSERT INTO "user_movement_counts" ("user_id", "movements") VALUES (NEW.user_id, 1)
    ON CONFLICT ("user_id") DO UPDATE SET "movements" = "user_movement_counts"."movements" + 1;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "money_movements_count_user_movements"
  AFTER INSERT OR DELETE ON "money_movements"
  FOR EACH ROW EXECUTE FUNCTION "count_user_movements"();
--> statement-breakpoint
-- Most updates move a movement along (held, queued, open): the function runs only for those that
-- change whether it counts, or whose it is.
CREATE TRIGGER "money_movements_recount_user_movements"
  AFTER UPDATE OF "status", "user_id" ON "money_movements"
  FOR EACH ROW WHEN (
    OLD.user_id IS DISTINCT FROM NEW.user_id
    OR "movement_is_history"(OLD.status) IS DISTINCT FROM "movement_is_history"(NEW.status)
  )
  EXECUTE FUNCTION "count_user_movements"();
--> statement-breakpoint
-- TRUNCATE fires no row trigger: the counts go with the rows.
CREATE FUNCTION "clear_user_movement_counts"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM "user_movement_counts";
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "money_movements_clear_user_movement_counts"
  AFTER TRUNCATE ON "money_movements"
  FOR EACH STATEMENT EXECUTE FUNCTION "clear_user_movement_counts"();
--> statement-breakpoint
-- The movements recorded before this migration.
INSERT INTO "user_movement_counts" ("user_id", "movements")
  SELECT "user_id", count(*) FROM "money_movements"
  WHERE "movement_is_history"("status") GROUP BY "user_id";

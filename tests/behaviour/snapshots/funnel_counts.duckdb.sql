SELECT
  "t8"."breakdown",
  SUM("t8"."reached_0") AS "count_0",
  SUM("t8"."reached_1") AS "count_1",
  SUM("t8"."reached_2") AS "count_2"
FROM (
  SELECT
    "t7"."person_id",
    COALESCE("t7"."breakdown", '(none)') AS "breakdown",
    "t7"."reached_0",
    "t7"."seconds_0",
    "t7"."reached_1",
    "t7"."reached_2",
    "t7"."seconds_1",
    "t7"."seconds_2"
  FROM (
    SELECT
      "t6"."person_id",
      MAX("t6"."_bd") AS "breakdown",
      MAX(CAST("t6"."_first" AS BIGINT)) AS "reached_0",
      MIN(CASE WHEN "t6"."_first" THEN 0.0 ELSE CAST(NULL AS DOUBLE) END) AS "seconds_0",
      MAX(
        CAST((
          "t6"."_s1" IS NOT NULL
        )
        AND (
          "t6"."ts" <= (
            "t6"."_s1" + INTERVAL '604800' SECOND
          )
        ) AS BIGINT)
      ) AS "reached_1",
      MAX(
        CAST((
          "t6"."_s2" IS NOT NULL
        )
        AND (
          "t6"."ts" <= (
            "t6"."_s2" + INTERVAL '604800' SECOND
          )
        ) AS BIGINT)
      ) AS "reached_2",
      MIN(
        CASE
          WHEN (
            "t6"."_s1" IS NOT NULL
          )
          AND (
            "t6"."ts" <= (
              "t6"."_s1" + INTERVAL '604800' SECOND
            )
          )
          THEN DATE_DIFF('MILLISECOND', "t6"."_s1", "t6"."ts") / 1000.0
          ELSE CAST(NULL AS DOUBLE)
        END
      ) AS "seconds_1",
      MIN(
        CASE
          WHEN (
            "t6"."_s2" IS NOT NULL
          )
          AND (
            "t6"."ts" <= (
              "t6"."_s2" + INTERVAL '604800' SECOND
            )
          )
          THEN DATE_DIFF('MILLISECOND', "t6"."_s2", "t6"."ts") / 1000.0
          ELSE CAST(NULL AS DOUBLE)
        END
      ) AS "seconds_2"
    FROM (
      SELECT
        "t5"."person_id",
        "t5"."ts",
        "t5"."message_id",
        "t5"."source_id",
        "t5"."_m0",
        "t5"."_m1",
        "t5"."_m2",
        "t5"."_s0",
        "t5"."_s1",
        "t5"."_s2",
        "t5"."_first",
        "t5"."_bd"
      FROM (
        SELECT
          "t4"."person_id",
          "t4"."ts",
          "t4"."message_id",
          "t4"."source_id",
          "t4"."_m0",
          "t4"."_m1",
          "t4"."_m2",
          "t4"."properties",
          "t4"."context",
          "t4"."type",
          "t4"."event",
          "t4"."user_id",
          "t4"."anonymous_id",
          "t4"."_s0",
          "t4"."_s1",
          "t4"."_s2",
          "t4"."_first",
          CASE
            WHEN "t4"."_first"
            THEN COALESCE("t4"."properties" ->> '$.store_id', "t4"."context" ->> '$.store_id')
            ELSE CAST(NULL AS TEXT)
          END AS "_bd"
        FROM (
          SELECT
            "t3"."person_id",
            "t3"."ts",
            "t3"."message_id",
            "t3"."source_id",
            "t3"."_m0",
            "t3"."_m1",
            "t3"."_m2",
            "t3"."properties",
            "t3"."context",
            "t3"."type",
            "t3"."event",
            "t3"."user_id",
            "t3"."anonymous_id",
            "t3"."_s0",
            CASE
              WHEN "t3"."_m1"
              THEN MAX("t3"."_s0") OVER (
                PARTITION BY "t3"."person_id"
                ORDER BY "t3"."ts" ASC, "t3"."message_id" ASC, "t3"."source_id" ASC
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 preceding
              )
              ELSE CAST(NULL AS TIMESTAMP)
            END AS "_s1",
            CASE
              WHEN "t3"."_m2"
              THEN MAX("t3"."_s0") OVER (
                PARTITION BY "t3"."person_id"
                ORDER BY "t3"."ts" ASC, "t3"."message_id" ASC, "t3"."source_id" ASC
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 preceding
              )
              ELSE CAST(NULL AS TIMESTAMP)
            END AS "_s2",
            "t3"."_m0"
            AND (
              COALESCE(
                SUM(CAST("t3"."_m0" AS BIGINT)) OVER (
                  PARTITION BY "t3"."person_id"
                  ORDER BY "t3"."ts" ASC, "t3"."message_id" ASC, "t3"."source_id" ASC
                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 preceding
                ),
                0
              ) = 0
            ) AS "_first"
          FROM (
            SELECT
              "t2"."person_id",
              "t2"."ts",
              "t2"."message_id",
              "t2"."source_id",
              "t2"."_m0",
              "t2"."_m1",
              "t2"."_m2",
              "t2"."properties",
              "t2"."context",
              "t2"."type",
              "t2"."event",
              "t2"."user_id",
              "t2"."anonymous_id",
              CASE WHEN "t2"."_m0" THEN "t2"."ts" ELSE CAST(NULL AS TIMESTAMP) END AS "_s0"
            FROM (
              SELECT
                "t1"."source_id",
                "t1"."message_id",
                "t1"."type",
                "t1"."event",
                "t1"."user_id",
                "t1"."anonymous_id",
                "t1"."ts",
                "t1"."properties",
                "t1"."context",
                "t1"."seq",
                "t1"."person_id",
                (
                  "t1"."event" = 'Product Viewed'
                )
                AND COALESCE((
                  "t1"."properties" ->> '$.category'
                ) = 'shoes', FALSE) AS "_m0",
                "t1"."event" = 'Coupon Applied' AS "_m1",
                "t1"."event" = 'Order Completed' AS "_m2"
              FROM (
                SELECT
                  "t0"."source_id",
                  "t0"."message_id",
                  "t0"."type",
                  "t0"."event",
                  "t0"."user_id",
                  "t0"."anonymous_id",
                  "t0"."ts",
                  "t0"."properties",
                  "t0"."context",
                  CAST("t0"."message_id" AS TEXT) AS "seq",
                  "t0"."anonymous_id" AS "person_id"
                FROM "events" AS "t0"
                WHERE
                  "t0"."type" = 'track'
                  AND "t0"."event" IS NOT NULL
                  AND "t0"."anonymous_id" IS NOT NULL
              ) AS "t1"
            ) AS "t2"
            WHERE
              "t2"."_m0" OR "t2"."_m1" OR "t2"."_m2"
          ) AS "t3"
        ) AS "t4"
      ) AS "t5"
      WHERE
        "t5"."_first"
        OR (
          (
            "t5"."_s1" IS NOT NULL
          )
          AND (
            "t5"."ts" <= (
              "t5"."_s1" + INTERVAL '604800' SECOND
            )
          )
        )
        OR (
          (
            "t5"."_s2" IS NOT NULL
          )
          AND (
            "t5"."ts" <= (
              "t5"."_s2" + INTERVAL '604800' SECOND
            )
          )
        )
    ) AS "t6"
    GROUP BY
      1
  ) AS "t7"
  WHERE
    "t7"."reached_0" = 1
) AS "t8"
GROUP BY
  1

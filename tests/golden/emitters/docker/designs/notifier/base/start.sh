#!/bin/sh
# Entry point of the Lambda image: Telegraf forwards the component's metrics to AMS
# (INFLUX_URL and INFLUX_TOKEN come from the function's environment), then the FaaS
# Supervisor handles the invocation by running script.sh on the input file.
telegraf --config /var/task/telegraf-lambda.conf >/tmp/telegraf.log 2>&1 &
exec supervisor

rm -f graphbox.env
graphbox-mock serve --port 0 --env-file graphbox.env > /dev/null 2> graphbox.log &
graphbox_pid=$!
for _ in $(seq 300); do [ -f graphbox.env ] && break; sleep 0.1; done
[ -f graphbox.env ] || { cat graphbox.log; exit 1; }
set -a; . ./graphbox.env; set +a
curl -sSf --cacert "$SSL_CERT_FILE" "$AZURE_AUTHORITY_HOST/$AZURE_TENANT_ID/oauth2/v2.0/token" \
  -d grant_type=client_credentials -d client_id="$AZURE_CLIENT_ID" \
  --data-urlencode client_secret="$AZURE_CLIENT_SECRET" -d scope=https://graph.microsoft.com/.default
kill "$graphbox_pid"

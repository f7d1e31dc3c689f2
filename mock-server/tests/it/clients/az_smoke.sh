#!/usr/bin/env bash
# Microsoft's Azure CLI, unmodified, against the mock over HTTPS. Arguments:
# AZ AUTHORITY TENANT_ID CLIENT_ID CLIENT_SECRET TENANT_DOMAIN CA_FILE ADMIN ADMIN_PASSWORD
# VENDOR_APP_ID (a multi-tenant application of another tenant of the server).
# HTTPS_PROXY must reach the mock for host:443 (see tests/it/azure_cli.rs: MSAL
# asks user realm discovery on port 443 whatever the authority's port).
# Prints one `name<TAB>value` line per step for tests/it/azure_cli.rs to check.
set -euo pipefail
az=$1 authority=$2 tenant=$3 client=$4 secret=$5 domain=$6 ca=$7 admin=$8 admin_password=$9 vendor=${10}
config=$(mktemp -d)
trap 'rm -rf "$config"' EXIT
export AZURE_CONFIG_DIR=$config REQUESTS_CA_BUNDLE=$ca AZURE_CORE_COLLECT_TELEMETRY=false AZURE_CORE_NO_COLOR=1
az() { "$az" "$@" --only-show-errors; }
step() { printf '%s\t%s\n' "$1" "$2"; }

# A non-public cloud: the endpoints are given, nothing is discovered, and
# MSAL's instance discovery (which asks login.microsoftonline.com) is off.
az cloud register -n graphbox --skip-endpoint-discovery \
  --endpoint-active-directory "$authority" \
  --endpoint-resource-manager "$authority/" \
  --endpoint-microsoft-graph-resource-id "$authority/" \
  --endpoint-active-directory-resource-id "https://management.core.windows.net/" \
  --endpoint-active-directory-graph-resource-id "https://graph.windows.net/" >/dev/null
az cloud set -n graphbox >/dev/null
az config set core.instance_discovery=false >/dev/null

step login "$(az login --service-principal -u "$client" -p "$secret" --tenant "$tenant" --allow-no-subscriptions --query '[0].tenantId' -o tsv)"

step user_create "$(az ad user create --display-name 'Az User' --user-principal-name "azuser@$domain" --password 'Passw0rd!Az1' --query userPrincipalName -o tsv)"
user=$(az ad user show --id "azuser@$domain" --query id -o tsv)
az ad user update --id "$user" --display-name 'Az Tester'
step user_update "$(az ad user show --id "$user" --query displayName -o tsv)"
step user_list "$(az ad user list --filter "startswith(displayName,'Az ')" --query 'length(@)' -o tsv)"

group=$(az ad group create --display-name AzGroup --mail-nickname azgroup --query id -o tsv)
az ad group member add --group "$group" --member-id "$user"
step member_list "$(az ad group member list --group "$group" --query '[0].id' -o tsv)"
step member_check "$(az ad group member check --group "$group" --member-id "$user" --query value -o tsv)"

app=$(az ad app create --display-name azapp --query appId -o tsv)
az ad app update --id "$app" --set notes=hello
step app_update "$(az ad app show --id "$app" --query notes -o tsv)"
step app_list "$(az ad app list --filter "displayName eq 'azapp'" --query '[0].appId' -o tsv)"
step app_credential "$(az ad app credential reset --id "$app" --query appId -o tsv 2>/dev/null)"
step sp_create "$(az ad sp create --id "$app" --query appId -o tsv)"
step sp_show "$(az ad sp show --id "$app" --query appDisplayName -o tsv)"
step sp_credential "$(az ad sp credential reset --id "$app" --query appId -o tsv 2>/dev/null)"
step sp_list "$(az ad sp list --filter "appId eq '$app'" --query 'length(@)' -o tsv)"
# Another tenant's multi-tenant application, instantiated here.
step sp_create_vendor "$(az ad sp create --id "$vendor" --query appOwnerOrganizationId -o tsv)"
# A Graph call az has no command for: the Global Administrator assignments.
ga=62e90394-69f5-4237-9190-012177145e10
step rest_role_assignment "$(az rest --method get --resource "$authority" \
  --url "$authority/v1.0/roleManagement/directory/roleAssignments?\$filter=roleDefinitionId eq '$ga'" \
  --query 'value[0].roleDefinitionId' -o tsv)"
# az's own refusal (azure/cli/command_modules/role/custom.py: admin_consent
# checks the cloud name before calling the portal's consent API).
step admin_consent "$(az ad app permission admin-consent --id "$app" 2>&1 >/dev/null || true)"
az ad app delete --id "$app"
step app_deleted "$(az ad app list --filter "appId eq '$app'" --query 'length(@)' -o tsv)"
az ad user delete --id "$user"
step user_deleted "$(az ad user list --filter "id eq '$user'" --query 'length(@)' -o tsv)"

# A user's sign-in as Azure CLI (Microsoft's first-party public client):
# user realm discovery, then the password grant at `organizations`.
az logout
step user_login "$(az login -u "$admin" -p "$admin_password" --allow-no-subscriptions --query '[0].tenantId' -o tsv)"
step user_login_type "$(az account show --query user.type -o tsv)"
step signed_in_user "$(az ad signed-in-user show --query userPrincipalName -o tsv)"
step signed_in_user_name "$(az ad signed-in-user show --query displayName -o tsv)"

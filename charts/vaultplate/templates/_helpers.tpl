{{/*
Chart name, or nameOverride.
*/}}
{{- define "vaultplate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every object's name: fullnameOverride, else "<release>-<name>", or just the release
name when it already contains the chart name. Kept to 50 characters so that the suffixes below
still fit Kubernetes' 63.
*/}}
{{- define "vaultplate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "vaultplate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "vaultplate.labels" -}}
helm.sh/chart: {{ include "vaultplate.chart" . }}
app.kubernetes.io/name: {{ include "vaultplate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: argocd-cmp
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Name of the ConfigMap holding plugin.yaml.
*/}}
{{- define "vaultplate.pluginConfigMapName" -}}
{{- printf "%s-plugin" (include "vaultplate.fullname" .) }}
{{- end }}

{{/*
Name of the Secret the sidecar loads with envFrom: the existing one, else the one this chart
creates; empty when there is neither.
*/}}
{{- define "vaultplate.configSecretName" -}}
{{- if .Values.vault.existingSecret }}
{{- .Values.vault.existingSecret }}
{{- else if .Values.vault.address }}
{{- printf "%s-config" (include "vaultplate.fullname" .) }}
{{- end }}
{{- end }}

{{/*
The settings of the created Secret, as a dict of environment variable names to values. Fails
with a message naming the value to set when the chosen login lacks one.
*/}}
{{- define "vaultplate.settings" -}}
{{- $vault := .Values.vault }}
{{- $auth := $vault.auth }}
{{- $env := dict "VAULT_ADDR" $vault.address "AVP_AUTH_TYPE" $auth.type }}
{{- with $vault.namespace }}{{ $_ := set $env "VAULT_NAMESPACE" . }}{{ end }}
{{- with $auth.mountPath }}{{ $_ := set $env "AVP_MOUNT_PATH" . }}{{ end }}
{{- if eq $auth.type "k8s" }}
{{- $_ := set $env "AVP_K8S_ROLE" (required "vault.auth.k8s.role is required for vault.auth.type k8s" $auth.k8s.role) }}
{{- else if eq $auth.type "approle" }}
{{- $_ := set $env "AVP_ROLE_ID" (required "vault.auth.approle.roleId is required for vault.auth.type approle" $auth.approle.roleId) }}
{{- $_ := set $env "AVP_SECRET_ID" (required "vault.auth.approle.secretId is required for vault.auth.type approle" $auth.approle.secretId) }}
{{- else if eq $auth.type "userpass" }}
{{- $_ := set $env "AVP_USERNAME" (required "vault.auth.userpass.username is required for vault.auth.type userpass" $auth.userpass.username) }}
{{- $_ := set $env "AVP_PASSWORD" (required "vault.auth.userpass.password is required for vault.auth.type userpass" $auth.userpass.password) }}
{{- else if eq $auth.type "token" }}
{{- $_ := set $env "VAULT_TOKEN" (required "vault.auth.token is required for vault.auth.type token" $auth.token) }}
{{- else if eq $auth.type "github" }}
{{- $_ := set $env "AVP_GITHUB_TOKEN" (required "vault.auth.github.token is required for vault.auth.type github" $auth.github.token) }}
{{- else if eq $auth.type "cert" }}
{{- $_ := set $env "VAULT_CLIENT_CERT" (required "vault.auth.cert.clientCert (a file path in the sidecar) is required for vault.auth.type cert" $auth.cert.clientCert) }}
{{- $_ := set $env "VAULT_CLIENT_KEY" (required "vault.auth.cert.clientKey (a file path in the sidecar) is required for vault.auth.type cert" $auth.cert.clientKey) }}
{{- with $auth.cert.role }}{{ $_ := set $env "AVP_CERT_ROLE" . }}{{ end }}
{{- else if eq $auth.type "jwt" }}
{{- $_ := set $env "AVP_JWT_TOKEN_PATH" (required "vault.auth.jwt.tokenPath (a file path in the sidecar) is required for vault.auth.type jwt" $auth.jwt.tokenPath) }}
{{- with $auth.jwt.role }}{{ $_ := set $env "AVP_JWT_ROLE" . }}{{ end }}
{{- end }}
{{- if .Values.teams.policy }}
{{- $_ := set $env "VAULTPLATE_POLICY" (printf "%s/policy.yaml" .Values.teams.policyMountPath) }}
{{- end }}
{{- range $name, $value := $vault.extraEnv }}
{{- if hasKey $env $name }}
{{- fail (printf "vault.extraEnv.%s repeats a setting the chart derives from vault.* or teams.*; set it there" $name) }}
{{- end }}
{{- $_ := set $env $name (toString $value) }}
{{- end }}
{{- toJson $env }}
{{- end }}

{{- define "vaultplate.policyConfigMapName" -}}
{{- printf "%s-policy" (include "vaultplate.fullname" .) }}
{{- end }}

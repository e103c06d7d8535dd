# Windows: the PyInstaller folder, signed launchers, a per-user MSI (WiX v5), the MSI signed.
#   pwsh packaging/windows/build.ps1 [-Python .venv\Scripts\python.exe]
# Needs: Python with Parcours and the [packaging] extra installed, and WiX v5 (`dotnet tool install --global wix`).
# Signing (skipped, with a notice, when the secrets are absent), from the city's IT certificate:
#   WINDOWS_CERT_PFX_BASE64  the code-signing certificate (.pfx) in base64
#   WINDOWS_CERT_PASSWORD    its password
#   WINDOWS_TIMESTAMP_URL    RFC 3161 timestamp server (default http://timestamp.digicert.com)
param([string]$Python = ".venv\Scripts\python.exe", [string]$Manufacturer = "Parcours")
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path "$PSScriptRoot\..\..").Path
Set-Location $Root
$Version = & $Python -c "from services.version import VERSION; print(VERSION)"
$Dist = "$Root\packaging\dist"
$Out = "$Root\packaging\out"
New-Item -ItemType Directory -Force $Out | Out-Null

& $Python -m PyInstaller --noconfirm --clean --log-level WARN --distpath $Dist --workpath "$Root\packaging\build" `
  "$Root\packaging\parcours.spec"
if ($LASTEXITCODE) { throw "PyInstaller a échoué" }
$Bundle = "$Dist\Parcours"
foreach ($exe in "Parcours.exe", "parcours-cli.exe") {
  if (-not (Test-Path "$Bundle\$exe")) { throw "$exe absent du dossier $Bundle" }
}

function Find-SignTool {
  $found = Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe" -ErrorAction SilentlyContinue |
    Sort-Object FullName -Descending | Select-Object -First 1
  if (-not $found) { throw "signtool.exe introuvable (Windows SDK)" }
  return $found.FullName
}

$Pfx = $null
if ($env:WINDOWS_CERT_PFX_BASE64 -and $env:WINDOWS_CERT_PASSWORD) {
  $Pfx = Join-Path ([IO.Path]::GetTempPath()) "parcours-signing.pfx"
  [IO.File]::WriteAllBytes($Pfx, [Convert]::FromBase64String($env:WINDOWS_CERT_PFX_BASE64))
  $SignTool = Find-SignTool
  $Timestamp = if ($env:WINDOWS_TIMESTAMP_URL) { $env:WINDOWS_TIMESTAMP_URL } else { "http://timestamp.digicert.com" }
}
function Sign([string[]]$Files) {
  if (-not $Pfx) { return }
  & $SignTool sign /f $Pfx /p $env:WINDOWS_CERT_PASSWORD /fd SHA256 /tr $Timestamp /td SHA256 `
    /d "Parcours" $Files
  if ($LASTEXITCODE) { throw "signtool a échoué" }
}

try {
  if ($Pfx) { Sign @("$Bundle\Parcours.exe", "$Bundle\parcours-cli.exe") }
  else { Write-Host "Signature ignorée : WINDOWS_CERT_PFX_BASE64 et WINDOWS_CERT_PASSWORD absents." }

  $Msi = "$Out\Parcours-$Version-x64.msi"
  # ICE38/ICE64/ICE91: the per-user rules on files in the profile, which a per-user package meets by design.
  wix build -arch x64 -d "Version=$Version" -d "BundleDir=$Bundle" -d "Manufacturer=$Manufacturer" `
    -d "IconFile=$Root\resources\icons\parcours.ico" -sice ICE38 -sice ICE64 -sice ICE91 `
    "$Root\packaging\windows\parcours.wxs" -o $Msi
  if ($LASTEXITCODE) { throw "wix build a échoué" }
  Sign @($Msi)
} finally {
  if ($Pfx) { Remove-Item -Force $Pfx }
}
$size = "{0:N1} Mo" -f ((Get-Item $Msi).Length / 1MB)
$bundleSize = "{0:N1} Mo" -f ((Get-ChildItem $Bundle -Recurse -File | Measure-Object Length -Sum).Sum / 1MB)
Write-Host "dossier $bundleSize ; MSI $size : $Msi"

# Windows smoke test of the MSI, as a user without administrator rights would meet it: install per user, run the
# installed parcours-cli (selfcheck, demo, statement --pdf) and the window offscreen with the PDF preview
# (ui/smoke.py), then uninstall and check nothing of the program is left.
#   pwsh packaging/windows/smoke.ps1
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path "$PSScriptRoot\..\..").Path
$Msi = Get-ChildItem "$Root\packaging\out\Parcours-*-x64.msi" | Select-Object -First 1
if (-not $Msi) { throw "MSI introuvable dans packaging\out" }
$Work = Join-Path ([IO.Path]::GetTempPath()) "parcours-smoke"
New-Item -ItemType Directory -Force $Work | Out-Null

function Run([string]$Exe, [string[]]$Arguments) {
  & $Exe @Arguments
  if ($LASTEXITCODE) { throw "$Exe $Arguments : code $LASTEXITCODE" }
}

$p = Start-Process msiexec.exe -ArgumentList "/i", "`"$($Msi.FullName)`"", "/qn", "/l*v", "`"$Work\install.log`"" -Wait -PassThru
if ($p.ExitCode) { Get-Content "$Work\install.log" -Tail 40; throw "installation : code $($p.ExitCode)" }
$Installed = "$env:LOCALAPPDATA\Programs\Parcours"
$Cli = "$Installed\parcours-cli.exe"
if (-not (Test-Path "$Installed\Parcours.exe")) { throw "Parcours.exe absent de $Installed" }
if (-not (Test-Path "$env:APPDATA\Microsoft\Windows\Start Menu\Programs\Parcours.lnk")) { throw "raccourci du menu Démarrer absent" }

$env:QT_QPA_PLATFORM = "offscreen"
$Db = "$Work\smoke.sqlite"
Run $Cli @("--version")
Run $Cli @("--db", $Db, "selfcheck")
Run $Cli @("--db", $Db, "demo")
Run $Cli @("--db", $Db, "export", "$Work\export.json")
$export = Get-Content "$Work\export.json" -Raw -Encoding UTF8 | ConvertFrom-Json
$convention = ($export.conventions | Where-Object { $_.key -like "AP-*" } | Select-Object -First 1)
$month = ([datetime]$convention.start).ToString("yyyy-MM")
Run $Cli @("--db", $Db, "statement", "--convention", $convention.key, "--month", $month, "--pdf", "$Work\etat.pdf")
if ((Get-Item "$Work\etat.pdf").Length -lt 1000) { throw "PDF trop petit" }

"Smoke-Ci-Parcours-2026!" | & $Cli --db $Db user add ci-admin --role administrator --password-stdin
if ($LASTEXITCODE) { throw "user add : code $LASTEXITCODE" }
$env:PARCOURS_SMOKE = "statements-preview"
$env:PARCOURS_SMOKE_USER = "ci-admin"
$env:PARCOURS_SMOKE_PASSWORD = "Smoke-Ci-Parcours-2026!"
$env:PARCOURS_SMOKE_SCREENSHOT = "$Root\packaging\out\smoke-preview-windows.png"
# The windowed launcher has no console: its exit code says whether the preview showed pages.
$gui = Start-Process "$Installed\Parcours.exe" -ArgumentList "--db", "`"$Db`"" -Wait -PassThru
Remove-Item Env:PARCOURS_SMOKE
if ($gui.ExitCode) { throw "fenêtre : l'aperçu PDF n'a pas montré de pages (code $($gui.ExitCode))" }

$p = Start-Process msiexec.exe -ArgumentList "/x", "`"$($Msi.FullName)`"", "/qn" -Wait -PassThru
if ($p.ExitCode) { throw "désinstallation : code $($p.ExitCode)" }
if (Test-Path "$Installed\Parcours.exe") { throw "Parcours.exe est resté après la désinstallation" }
Write-Host "MSI : installation par utilisateur, selfcheck, démo, état PDF, aperçu, désinstallation : en ordre."

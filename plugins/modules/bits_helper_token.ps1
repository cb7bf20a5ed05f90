#!powershell

# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -CSharpUtil ..module_utils.BitsHelperToken

# Glue only (docs/dev/design.md section 2): the argument spec, one call into the C# core, and the
# exit. Everything that decides something lives in BitsHelperToken.cs, where the Mono tests run it.
# The controller (plugins/action/bits_helper_token.py) has already normalised the arguments.

$spec = @{
    options = @{
        job = @{ type = 'str'; required = $true }
        flags = @{ type = 'list'; elements = 'str' }
        helper_token = @{ type = 'str'; choices = 'keep', 'absent', 'caller'; default = 'keep' }
        all_matches = @{ type = 'bool'; default = $false }
        all_users = @{ type = 'bool'; default = $false }
        force = @{ type = 'bool'; default = $false }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$core = [ansible_collections.winbits.bits.plugins.module_utils.BitsHelperToken.HelperTokenModule]
$result = $core::RunOnHost($module.Params, $module.CheckMode)
foreach ($key in $result.Keys) {
    $module.Result[$key] = $result[$key]
}

if ($null -ne $result['error']) {
    $module.FailJson($result['error']['message'])
}
$module.ExitJson()

-- Headless Neovim (0.7+) driving `mpac-bridge lsp`: logs every diagnostics change of the current
-- buffer as "<unix time>\t<count>\t<code|message || ...>" to $MPAC_NVIM_OUT, quits when
-- "$MPAC_NVIM_OUT.quit" exists. Used by nvim_check.py and test_nvim.py.
local out = os.getenv("MPAC_NVIM_OUT")
local function log(line)
  local f = io.open(out, "a")
  f:write(line .. "\n")
  f:close()
end
local function now()
  local s, us = vim.loop.gettimeofday()
  return s + us / 1e6
end

vim.api.nvim_create_autocmd("DiagnosticChanged", {
  callback = function()
    local ds = vim.diagnostic.get(0)
    local parts = {}
    for _, d in ipairs(ds) do
      table.insert(parts, tostring(d.code or "") .. "|" .. d.message)
    end
    log(string.format("%.6f\t%d\t%s", now(), #ds, table.concat(parts, " || ")))
  end,
})

vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    local id = vim.lsp.start_client({
      name = "mpac-bridge",
      cmd = { os.getenv("MPAC_PYTHON") or "mpac-bridge", "-m", "bridge", "lsp" },
      root_dir = os.getenv("MPAC_ROOT"),
      init_options = { watch = "server" },
      on_init = function() log("init") end,
    })
    vim.lsp.buf_attach_client(0, id)
    local timer = vim.loop.new_timer()
    timer:start(50, 50, vim.schedule_wrap(function()
      if vim.loop.fs_stat(out .. ".quit") then
        log("final\t" .. vim.inspect(vim.diagnostic.get(0)):gsub("\n", " "))
        vim.lsp.stop_client(id)
        vim.cmd("qa!")
      end
    end))
  end,
})

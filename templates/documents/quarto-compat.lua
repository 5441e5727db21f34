--[[
quarto-compat.lua: the Quarto features NAoMe documents use, for plain pandoc HTML output.

  * callouts  ::: {.callout-note|important|tip|warning|caution}   -> <aside class="callout ...">
    with a title from the first heading inside, the title="..." attribute, or the kind's name;
  * figures   ![caption](path){#fig-x fig-alt="..."}  -> numbered "Figure N: caption",
    fig-alt becomes the <img> alt attribute;
  * tables    : caption {#tbl-x}  -> numbered "Table N: caption";
  * cross-references  @fig-x, [@fig-x], @tbl-x  -> a link reading "Figure N" / "Table N";
  * {{< pagebreak >}}  -> <div class="page-break">.

An unknown reference becomes "?@fig-x" (as Quarto writes it) and is reported on stderr.

Under Quarto (which implements all of the above itself) only one thing is done: relative
image paths get the `resource-prefix` metadata value, so that the HTML written to the
output folder finds figures kept elsewhere. Pandoc runs need that too.
]]

local NBSP = "\u{00A0}"
local CALLOUT_TITLES = {
  note = "Note", important = "Important", tip = "Tip", warning = "Warning", caution = "Caution",
}

local prefix = nil
local numbers = { fig = {}, tbl = {} }
local counts = { fig = 0, tbl = 0 }
local callout_count = 0
local unresolved = {}

local function is_relative(src)
  return not (src:match("^%a[%w+.-]*:") or src:match("^/") or src:match("^#"))
end

local function read_prefix(meta)
  if meta["resource-prefix"] then
    prefix = pandoc.utils.stringify(meta["resource-prefix"])
    if prefix == "" or prefix == "." then prefix = nil end
  end
end

local function prefix_image(img)
  if prefix and is_relative(img.src) then
    img.src = prefix .. "/" .. img.src
  end
  return img
end

-- Quarto mode: leave everything else to Quarto.
if quarto then
  return {
    { Meta = function(meta) read_prefix(meta) end },
    { Image = prefix_image },
  }
end

local function kind_of(identifier)
  return identifier:match("^(fig)%-") or identifier:match("^(tbl)%-")
end

local function label(kind, number)
  return (kind == "fig" and "Figure" or "Table") .. NBSP .. tostring(number)
end

local function number(identifier)
  local kind = kind_of(identifier or "")
  if not kind or numbers[kind][identifier] then return nil end
  counts[kind] = counts[kind] + 1
  numbers[kind][identifier] = counts[kind]
  return kind, counts[kind]
end

local function prepend_caption(caption, text)
  local long = caption.long
  local lead = pandoc.Span({ pandoc.Str(text .. ":") }, { class = "caption-label" })
  if #long == 0 then
    caption.long = { pandoc.Plain({ lead }) }
  else
    local first = long[1]
    if first.t == "Plain" or first.t == "Para" then
      first.content:insert(1, pandoc.Space())
      first.content:insert(1, lead)
    else
      long:insert(1, pandoc.Plain({ lead }))
    end
  end
  return caption
end

-- Pass 1: number figures and tables in document order; move fig-alt to the alt text.
local function set_alt(fig)
  return fig:walk({
    Image = function(img)
      local alt = img.attributes["fig-alt"]
      if alt then
        img.attributes["fig-alt"] = nil
        img.caption = pandoc.Inlines({ pandoc.Str(alt) })
      end
      return img
    end,
  })
end

local function Figure(fig)
  fig = set_alt(fig)
  local kind, n = number(fig.identifier)
  if kind then fig.caption = prepend_caption(fig.caption, label(kind, n)) end
  return fig
end

local function Table(tbl)
  local kind, n = number(tbl.identifier)
  if kind then tbl.caption = prepend_caption(tbl.caption, label(kind, n)) end
  return tbl
end

-- Callouts.
local function callout_kind(div)
  for _, class in ipairs(div.classes) do
    local kind = class:match("^callout%-(%a+)$")
    if kind and CALLOUT_TITLES[kind] then return kind end
  end
  return nil
end

local function Div(div)
  local kind = callout_kind(div)
  if not kind then return nil end
  local content = div.content
  local title = div.attributes["title"]
  if not title and #content > 0 and content[1].t == "Header" then
    title = pandoc.utils.stringify(content[1])
    content:remove(1)
  end
  title = title or CALLOUT_TITLES[kind]
  callout_count = callout_count + 1
  local id = "callout-" .. callout_count .. "-title"
  local open = string.format('<aside class="callout callout-%s" aria-labelledby="%s">', kind, id)
  local heading = pandoc.Div({ pandoc.Plain({ pandoc.Str(title) }) }, { id = id, class = "callout-title" })
  local body = pandoc.Div(content, { class = "callout-body" })
  return { pandoc.RawBlock("html", open), heading, body, pandoc.RawBlock("html", "</aside>") }
end

-- {{< pagebreak >}} on a paragraph of its own.
local function Para(para)
  if pandoc.utils.stringify(para):match("^{{<%s*pagebreak%s*>}}$") then
    return pandoc.RawBlock("html", '<div class="page-break" aria-hidden="true"></div>')
  end
  return nil
end

-- Pass 2: cross-references.
local function Cite(cite)
  local out = pandoc.Inlines({})
  for i, citation in ipairs(cite.citations) do
    local id = citation.id
    local kind = kind_of(id)
    if not kind then return nil end
    if i > 1 then out:extend({ pandoc.Str(","), pandoc.Space() }) end
    local n = numbers[kind][id]
    if n then
      out:insert(pandoc.Link({ pandoc.Str(label(kind, n)) }, "#" .. id, "", { class = "cross-ref" }))
    else
      unresolved[#unresolved + 1] = id
      out:insert(pandoc.Strong({ pandoc.Str("?@" .. id) }))
    end
  end
  return out
end

local function report(doc)
  for _, id in ipairs(unresolved) do
    io.stderr:write("quarto-compat: unresolved cross-reference @" .. id .. "\n")
  end
  return doc
end

return {
  { Meta = function(meta) read_prefix(meta) end },
  { Image = prefix_image, Figure = Figure, Table = Table, Div = Div, Para = Para },
  { Cite = Cite, Pandoc = report },
}

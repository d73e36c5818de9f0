// The search page's script: reads the form, calls /api/search, and renders hits, facets and
// paging. Every value that comes from the index or a report is inserted with textContent or as
// an attribute value, never as markup, so a review containing <script> shows as text.
(function () {
  'use strict';
  var FILTERS = ['from', 'to', 'sentiment', 'topic', 'team', 'source', 'rating', 'location',
    'product', 'language'];
  var SELECTS = ['sentiment', 'topic', 'team', 'source', 'location', 'product', 'language'];
  var state = { page: 1, pages: 0, cluster: '' };

  function byId(id) { return document.getElementById(id); }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function link(href, text, className) {
    var anchor = element('a', text, className);
    anchor.setAttribute('href', href);
    return anchor;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function ensureOption(select, value) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) { return; }
    }
    var option = element('option', value);
    option.value = value;
    select.appendChild(option);
  }

  function parameters(page) {
    var query = new URLSearchParams();
    var text = byId('q').value.trim();
    if (text) { query.set('q', text); }
    FILTERS.forEach(function (name) {
      var value = byId(name).value;
      if (value) { query.set(name, value); }
    });
    if (page > 1) { query.set('page', String(page)); }
    return query;
  }

  function readLocation() {
    var query = new URLSearchParams(window.location.search);
    byId('q').value = query.get('q') || '';
    FILTERS.forEach(function (name) {
      var value = query.get(name) || '';
      var field = byId(name);
      if (value && field.tagName === 'SELECT') { ensureOption(field, value); }
      field.value = value;
    });
    var page = parseInt(query.get('page') || '1', 10);
    return page > 0 ? page : 1;
  }

  function showError(message) {
    var box = byId('error');
    box.textContent = message;
    box.hidden = !message;
  }

  function getJson(url) {
    return fetch(url, { headers: { Accept: 'application/json' } }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) {
          var message = body && body.error ? body.error.message : 'request failed';
          throw new Error(message);
        }
        return body;
      });
    });
  }

  function search(page, remember) {
    var query = parameters(page);
    if (remember) {
      var address = query.toString() ? '/?' + query.toString() : '/';
      window.history.pushState(null, '', address);
    }
    query.set('per_page', '10');
    byId('summary').textContent = 'Searching…';
    return getJson('/api/search?' + query.toString()).then(function (answer) {
      showError('');
      state.page = answer.page;
      state.pages = answer.pages;
      renderHits(answer);
      renderFacets(answer.facets);
      renderPaging();
    }).catch(function (error) {
      showError(error.message);
      byId('summary').textContent = 'No results.';
      clear(byId('hits'));
      clear(byId('facets'));
      byId('paging').hidden = true;
    });
  }

  function renderHits(answer) {
    var noun = answer.total === 1 ? ' matching document' : ' matching documents';
    byId('summary').textContent = answer.total.toLocaleString('en') + noun;
    var list = byId('hits');
    clear(list);
    answer.hits.forEach(function (hit) {
      var item = element('li', null, 'hit');
      item.appendChild(link('/document/' + encodeURIComponent(hit.id), hit.id, 'title'));
      var fields = hit.fields || {};
      var meta = [hit.date, fields.source, fields.language, fields.sentiment, fields.topic,
        fields.team ? 'team ' + fields.team : null,
        fields.rating !== null && fields.rating !== undefined ? 'rating ' + fields.rating : null,
        fields.location].filter(function (value) { return value; });
      item.appendChild(element('span', meta.join(' · '), 'meta'));
      var snippet = element('p', null, 'snippet');
      hit.snippet.forEach(function (part) {
        snippet.appendChild(part.highlight ? element('mark', part.text)
          : document.createTextNode(part.text));
      });
      item.appendChild(snippet);
      list.appendChild(item);
    });
  }

  function renderFacets(facets) {
    var box = byId('facets');
    clear(box);
    facets.forEach(function (facet) {
      if (!facet.counts.length) { return; }
      var block = element('div', null, 'facet');
      block.setAttribute('data-field', facet.field);
      block.appendChild(element('h3', facet.field));
      var list = element('ul');
      facet.counts.forEach(function (entry) {
        var item = element('li');
        var filter = byId(facet.field);
        if (filter && filter.tagName === 'SELECT') {
          var button = element('button', entry.value);
          button.type = 'button';
          button.title = 'Only ' + facet.field + ' ' + entry.value;
          button.addEventListener('click', function () {
            ensureOption(filter, entry.value);
            filter.value = entry.value;
            search(1, true);
          });
          item.appendChild(button);
        } else {
          item.appendChild(element('span', entry.value));
        }
        item.appendChild(element('span', entry.count.toLocaleString('en'), 'count'));
        list.appendChild(item);
      });
      block.appendChild(list);
      box.appendChild(block);
    });
  }

  function renderPaging() {
    var nav = byId('paging');
    nav.hidden = state.pages <= 1;
    byId('page').textContent = 'page ' + state.page + ' of ' + state.pages;
    byId('previous').disabled = state.page <= 1;
    byId('next').disabled = state.page >= state.pages;
  }

  function loadFilters() {
    return getJson('/api/filters').then(function (values) {
      SELECTS.forEach(function (name) {
        (values[name] || []).forEach(function (value) { ensureOption(byId(name), value); });
      });
    }).catch(function () { /* the menus keep "any"; searching still works */ });
  }

  function loadProblems() {
    var list = byId('problems');
    return getJson('/api/problems').then(function (answer) {
      clear(list);
      if (!answer.problems.length) {
        list.appendChild(element('li', 'None yet: `vocmine mine` writes them each period.', 'muted'));
        return;
      }
      var shown = answer.problems.filter(function (problem) { return problem.status !== 'gone'; });
      var problemsById = {};
      shown.forEach(function (problem) { problemsById[problem.id] = problem; });
      function problemItem(problem) {
        var item = element('li');
        item.appendChild(link('/problem/' + encodeURIComponent(problem.id), problem.title));
        var status = problem.status + (problem.spike ? ', spike' : '');
        item.appendChild(element('span', problem.id + ' · ' + problem.team + ' · ' +
          problem.size + ' documents · ' + status, 'team'));
        return item;
      }
      // Problems under their parent themes ("Baggage › lost luggage / damaged bag"), the
      // largest themes first; problems without a theme after them.
      var themed = {};
      (answer.themes || []).slice(0, 8).forEach(function (theme) {
        var members = theme.problems.filter(function (id) { return problemsById[id]; });
        if (!members.length) { return; }
        var item = element('li', null, 'theme');
        item.appendChild(element('strong', theme.title));
        var nested = element('ul');
        members.slice(0, 6).forEach(function (id) {
          themed[id] = true;
          nested.appendChild(problemItem(problemsById[id]));
        });
        item.appendChild(nested);
        list.appendChild(item);
      });
      shown.filter(function (problem) { return !themed[problem.id]; }).slice(0, 12)
        .forEach(function (problem) { list.appendChild(problemItem(problem)); });
    }).catch(function (error) {
      clear(list);
      list.appendChild(element('li', error.message, 'muted'));
    });
  }

  function loadReports() {
    var list = byId('reports');
    return getJson('/api/reports').then(function (answer) {
      clear(list);
      if (!answer.periods.length) {
        list.appendChild(element('li', 'No reports yet.', 'muted'));
        return;
      }
      answer.periods.slice().reverse().forEach(function (period) {
        var item = element('li');
        item.appendChild(link('/reports/' + encodeURIComponent(period.period) + '/', period.period));
        var files = element('ul');
        period.files.filter(function (file) { return /\.html$/.test(file); }).slice(0, 12)
          .forEach(function (file) {
            var entry = element('li');
            entry.appendChild(link(file, decodeURIComponent(file.split('/').slice(3).join('/'))));
            files.appendChild(entry);
          });
        item.appendChild(files);
        list.appendChild(item);
      });
    }).catch(function (error) {
      clear(list);
      list.appendChild(element('li', error.message, 'muted'));
    });
  }

  function start() {
    byId('search').addEventListener('submit', function (event) {
      event.preventDefault();
      search(1, true);
    });
    byId('clear').addEventListener('click', function () {
      byId('q').value = '';
      FILTERS.forEach(function (name) { byId(name).value = ''; });
      search(1, true);
    });
    FILTERS.forEach(function (name) {
      byId(name).addEventListener('change', function () { search(1, true); });
    });
    byId('previous').addEventListener('click', function () { search(state.page - 1, true); });
    byId('next').addEventListener('click', function () { search(state.page + 1, true); });
    window.addEventListener('popstate', function () { search(readLocation(), false); });
    var page = readLocation();
    loadFilters();
    loadProblems();
    loadReports();
    search(page, false);
  }

  start();
}());
